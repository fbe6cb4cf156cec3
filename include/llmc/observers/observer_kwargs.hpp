// ObserverKwargs: typed, validated reads of QuantizationArgs.observer_kwargs. Upstream reads the
// dict with kwargs.get(key, default) and silently ignores misspelt keys; we reject keys the
// observer does not know and values of the wrong type or out of range, naming the kwarg.
//
//   ObserverKwargs kw(args.observer_kwargs(), "memoryless_mse", {"maxshrink", "grid"});
//   double grid = kw.number("grid", 100.0);
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace llmc {

class ObserverKwargs {
 public:
  // Throws llmc::Error for keys outside `allowed` (listing them) or a non-object `kwargs`.
  ObserverKwargs(const nlohmann::json& kwargs, std::string observer,
                 std::vector<std::string> allowed);

  bool contains(const std::string& key) const;
  // A JSON number (int or float; bool is not a number) or `fallback` when absent.
  double number(const std::string& key, double fallback) const;
  // A JSON integer (or an integral float such as 5.0) or `fallback` when absent.
  int64_t integer(const std::string& key, int64_t fallback) const;
  // A JSON boolean or `fallback` when absent.
  bool boolean(const std::string& key, bool fallback) const;

  // Throws "observer 'NAME': observer_kwargs.KEY: VALUE out of range (allowed: ALLOWED)".
  [[noreturn]] void out_of_range(const std::string& key, double value,
                                 const std::string& allowed) const;

 private:
  [[noreturn]] void wrong_type(const std::string& key, const char* expected) const;

  nlohmann::json kwargs_;
  std::string observer_;
};

}  // namespace llmc
