#include "cli_args.hpp"

#include <llmc/error.hpp>

#include <iostream>
#include <sstream>

namespace llmc::driver {

CliArgs::CliArgs(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

CliArgs& CliArgs::option(const std::string& name, const std::string& default_value,
                         const std::string& help) {
  options_.push_back({name, default_value, help});
  values_[name] = default_value;
  return *this;
}

bool CliArgs::parse(const std::vector<std::string>& argv) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << help();
      return false;
    }
    if (arg.rfind("--", 0) != 0) throw Error(command_ + ": unexpected argument '" + arg + "'");
    std::string name = arg.substr(2), value;
    const auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= argv.size()) throw Error(command_ + ": --" + name + " needs a value");
      value = argv[++i];
    }
    if (values_.count(name) == 0) {
      throw Error(command_ + ": unknown flag --" + name + " (see `llmc " + command_ + " --help`)");
    }
    values_[name] = value;
  }
  return true;
}

const std::string& CliArgs::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw Error(command_ + ": internal: undeclared flag --" + name);
  return it->second;
}

std::string CliArgs::help() const {
  std::ostringstream out;
  out << "usage: llmc " << command_ << " [flags]\n\n" << summary_ << "\n\nflags:\n";
  for (const auto& o : options_) {
    out << "  --" << o.name << " VALUE\n      " << o.help << " (default: "
        << (o.default_value.empty() ? "none" : o.default_value) << ")\n";
  }
  return out.str();
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace llmc::driver
