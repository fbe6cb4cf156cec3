// Registry: name → factory map shared by observers, modifiers and pipelines. Lookup
// normalises names the way llm-compressor's RegistryMixin does (case-insensitive, '_' and ' '
// equal to '-'), so "IMatrix_MSE" finds "imatrix_mse".
//
//   llmc::Registry<Observer, ObserverFactory>& r = observer_registry();
//   auto make = r.get("memoryless_minmax");
#pragma once

#include <llmc/error.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace llmc {

// "Memoryless_MinMax" → "memoryless-minmax".
inline std::string standardize_lookup_name(const std::string& name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == '_' || c == ' ') {
      out.push_back('-');
    } else {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

template <typename Factory>
class Registry {
 public:
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  // Registers `factory` under `name`; a second registration of the same normalised name throws.
  void add(const std::string& name, Factory factory) {
    const std::string key = standardize_lookup_name(name);
    if (entries_.count(key) != 0) {
      throw Error(kind_ + " registry: '" + name + "' is already registered");
    }
    entries_.emplace(key, Entry{name, std::move(factory)});
    order_.push_back(name);
  }

  bool contains(const std::string& name) const {
    return entries_.count(standardize_lookup_name(name)) != 0;
  }

  // The registered spelling of `name` ("IMATRIX-MSE" → "imatrix_mse").
  const std::string& canonical_name(const std::string& name) const { return find(name).name; }

  const Factory& get(const std::string& name) const { return find(name).factory; }

  // Names as registered, in registration order.
  const std::vector<std::string>& names() const { return order_; }

 private:
  struct Entry {
    std::string name;
    Factory factory;
  };

  const Entry& find(const std::string& name) const {
    auto it = entries_.find(standardize_lookup_name(name));
    if (it == entries_.end()) {
      std::string known;
      for (const auto& n : order_) known += (known.empty() ? "" : ", ") + n;
      throw Error("unknown " + kind_ + " '" + name + "' (known: " + known + ")");
    }
    return it->second;
  }

  std::string kind_;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> order_;
};

}  // namespace llmc
