// A small command-line parser for the llmc driver: named flags with defaults and help text,
// printed by --help exactly as parsed (llama.cpp-style tools list every flag with its default).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace llmc::driver {

class CliArgs {
 public:
  CliArgs(std::string command, std::string summary);

  // Declares `--name VALUE` with a default ("" means unset) and help text.
  CliArgs& option(const std::string& name, const std::string& default_value,
                  const std::string& help);
  // Parses argv; unknown flags or missing values throw llmc::Error naming the flag.
  // Returns false when --help was given (help already printed).
  bool parse(const std::vector<std::string>& argv);

  const std::string& get(const std::string& name) const;
  bool is_set(const std::string& name) const { return !get(name).empty(); }
  std::string help() const;

 private:
  struct Option {
    std::string name, default_value, help;
  };
  std::string command_, summary_;
  std::vector<Option> options_;
  std::map<std::string, std::string> values_;
};

// "a,b,,c" → {"a","b","c"}
std::vector<std::string> split_list(const std::string& text);

}  // namespace llmc::driver
