// ModifierKwargs: typed reads of a ModifierSpec's args for modifier factories. Like upstream's
// pydantic `extra="forbid"`, keys outside the modifier's own plus Modifier's common fields
// (requires_calibration_data, index, group, start, end, update) are rejected, and values of
// the wrong type too; both fail through ModifierSpec::fail, naming the key, its recipe line
// and the allowed keys.
//
//   llmc::ModifierKwargs kw(spec, {"targets", "ignore", "scheme"});
//   auto targets = kw.strings("targets").value_or(std::vector<std::string>{"Linear"});
//   kw.apply_common(*modifier);
#pragma once

#include <cstdint>
#include <llmc/core/modifier.hpp>
#include <llmc/recipe/modifier_spec.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace llmc {

class ModifierKwargs {
 public:
  ModifierKwargs(const ModifierSpec& spec, std::vector<std::string> allowed);

  // Present and not null (upstream treats an explicit null like an absent optional).
  bool contains(const std::string& key) const;
  std::optional<std::string> string(const std::string& key) const;
  std::optional<bool> boolean(const std::string& key) const;
  std::optional<double> number(const std::string& key) const;
  // An integer, or an integral float such as 5.0 (pydantic's lax int).
  std::optional<int64_t> integer(const std::string& key) const;
  // A list of strings, or one string taken as a one-element list (upstream `str | list[str]`).
  std::optional<std::vector<std::string>> strings(const std::string& key) const;
  // The raw value for structured kwargs (config_groups, mappings); nullptr when absent.
  const nlohmann::ordered_json* raw(const std::string& key) const;

  // Copies the common fields into `modifier` (group falls back to spec.group).
  void apply_common(Modifier& modifier) const;

  // spec.fail(key, message), for the modifier's own value checks.
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  [[noreturn]] void wrong_type(const std::string& key, const char* expected) const;

  const ModifierSpec& spec_;
};

}  // namespace llmc
