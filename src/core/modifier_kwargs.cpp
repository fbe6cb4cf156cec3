#include <algorithm>
#include <cmath>
#include <llmc/core/modifier_kwargs.hpp>

namespace llmc {

namespace {

// Modifier's own pydantic fields, accepted by every modifier (LC §1.1).
const std::vector<std::string>& common_keys() {
  static const std::vector<std::string> keys = {
      "requires_calibration_data", "index", "group", "start", "end", "update"};
  return keys;
}

bool contains_name(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

ModifierKwargs::ModifierKwargs(const ModifierSpec& spec, std::vector<std::string> allowed)
    : spec_(spec) {
  if (!spec.args.is_object() && !spec.args.is_null()) {
    spec.fail("", "arguments must be a mapping, got " + spec.args.dump());
  }
  for (const auto& key : common_keys()) {
    if (!contains_name(allowed, key)) allowed.push_back(key);
  }
  if (spec.args.is_null()) return;
  for (const auto& item : spec.args.items()) {
    if (contains_name(allowed, item.key())) continue;
    std::string known;
    for (const auto& name : allowed) known += (known.empty() ? "" : ", ") + name;
    spec.fail(item.key(), "unknown argument (allowed: " + known + ")");
  }
}

bool ModifierKwargs::contains(const std::string& key) const {
  return spec_.args.is_object() && spec_.args.contains(key) && !spec_.args.at(key).is_null();
}

const nlohmann::ordered_json* ModifierKwargs::raw(const std::string& key) const {
  return contains(key) ? &spec_.args.at(key) : nullptr;
}

std::optional<std::string> ModifierKwargs::string(const std::string& key) const {
  const auto* value = raw(key);
  if (!value) return std::nullopt;
  if (!value->is_string()) wrong_type(key, "a string");
  return value->get<std::string>();
}

std::optional<bool> ModifierKwargs::boolean(const std::string& key) const {
  const auto* value = raw(key);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) wrong_type(key, "true or false");
  return value->get<bool>();
}

std::optional<double> ModifierKwargs::number(const std::string& key) const {
  const auto* value = raw(key);
  if (!value) return std::nullopt;
  if (!value->is_number()) wrong_type(key, "a number");
  return value->get<double>();
}

std::optional<int64_t> ModifierKwargs::integer(const std::string& key) const {
  const auto* value = raw(key);
  if (!value) return std::nullopt;
  if (value->is_number_integer()) return value->get<int64_t>();
  if (value->is_number_float()) {
    const double real = value->get<double>();
    if (std::isfinite(real) && std::floor(real) == real && std::fabs(real) < 9.0e15) {
      return static_cast<int64_t>(real);
    }
  }
  wrong_type(key, "an integer");
}

std::optional<std::vector<std::string>> ModifierKwargs::strings(const std::string& key) const {
  const auto* value = raw(key);
  if (!value) return std::nullopt;
  if (value->is_string()) return std::vector<std::string>{value->get<std::string>()};
  if (!value->is_array()) wrong_type(key, "a string or a list of strings");
  std::vector<std::string> out;
  for (const auto& element : *value) {
    if (!element.is_string()) wrong_type(key, "a string or a list of strings");
    out.push_back(element.get<std::string>());
  }
  return out;
}

void ModifierKwargs::apply_common(Modifier& modifier) const {
  if (auto value = boolean("requires_calibration_data")) {
    modifier.set_requires_calibration_data(*value);
  }
  modifier.index = integer("index");
  modifier.group = string("group");
  if (!modifier.group && !spec_.group.empty()) modifier.group = spec_.group;
  modifier.start = number("start");
  modifier.end = number("end");
  modifier.update = number("update");
}

void ModifierKwargs::fail(const std::string& key, const std::string& message) const {
  spec_.fail(key, message);
}

void ModifierKwargs::wrong_type(const std::string& key, const char* expected) const {
  spec_.fail(key, std::string("expected ") + expected + ", got " + spec_.args.at(key).dump());
}

}  // namespace llmc
