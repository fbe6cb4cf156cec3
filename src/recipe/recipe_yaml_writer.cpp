// Recipe → upstream's stage-form dict and YAML (LC §2.4), so `Recipe.create_instance` on our
// output rebuilds the same modifiers.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <llmc/error.hpp>
#include <llmc/recipe/recipe.hpp>
#include <regex>

#include "yaml_scalar.hpp"

namespace llmc {
namespace {

using Json = nlohmann::ordered_json;

bool ends_with(const std::string& text, char suffix) {
  return !text.empty() && text.back() == suffix;
}

// get_yaml_serializable_dict drops None values, private "..._" state and the group.
Json serialisable_args(const ModifierSpec& spec) {
  if (!spec.args.is_object()) spec.fail("", "args must be a JSON object, got " + spec.args.dump());
  auto out = Json::object();
  for (const auto& [key, value] : spec.args.items()) {
    if (value.is_null() || ends_with(key, '_') || key == "group") continue;
    out[key] = value;
  }
  return out;
}

// A string PyYAML would read back as something else (bool, number, null, date, sexagesimal
// int, merge or value key) must be quoted.
bool needs_quotes(const std::string& text) {
  static const std::regex other_types(
      "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?|<<|=");
  return text.empty() || !recipe_detail::resolve_plain_scalar(text).is_string() ||
         std::regex_match(text, other_types);
}

// Shortest round-trip digits, spelled so PyYAML's float resolver accepts them ("1.0e-05").
std::string format_float(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, result.ptr);
  if (text.find('.') == std::string::npos) {
    const auto exponent = text.find('e');
    text.insert(exponent == std::string::npos ? text.size() : exponent, ".0");
  }
  return text;
}

void emit_string(YAML::Emitter& out, const std::string& text) {
  if (needs_quotes(text)) out << YAML::DoubleQuoted;
  out << text;
}

void emit_scalar(YAML::Emitter& out, const Json& value) {
  if (value.is_string()) {
    emit_string(out, value.get<std::string>());
  } else if (value.is_boolean()) {
    out << value.get<bool>();
  } else if (value.is_number_unsigned()) {
    out << value.get<std::uint64_t>();
  } else if (value.is_number_integer()) {
    out << value.get<std::int64_t>();
  } else if (value.is_number_float()) {
    out << format_float(value.get<double>());
  } else {
    out << YAML::Null;
  }
}

// yaml.dump(default_flow_style=None): a collection of scalars only is written inline.
void emit(YAML::Emitter& out, const Json& value) {
  if (!value.is_structured()) {
    emit_scalar(out, value);
    return;
  }
  const bool inline_style =
      std::none_of(value.begin(), value.end(), [](const Json& v) { return v.is_structured(); });
  out << (inline_style ? YAML::Flow : YAML::Block);
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [key, child] : value.items()) {
      out << YAML::Key;
      emit_string(out, key);
      out << YAML::Value;
      emit(out, child);
    }
    out << YAML::EndMap;
  } else {
    out << YAML::BeginSeq;
    for (const auto& child : value) emit(out, child);
    out << YAML::EndSeq;
  }
}

}  // namespace

Json Recipe::to_dict() const {
  auto groups = Json::object();
  for (const auto& spec : modifiers_) {
    const std::string group = spec.group.empty() ? stage_ : spec.group;
    std::string group_key = group + "_modifiers";
    for (int n = 1; groups.contains(group_key) && groups[group_key].contains(spec.type); ++n) {
      group_key = group + "_" + std::to_string(n) + "_modifiers";
    }
    groups[group_key][spec.type] = serialisable_args(spec);
  }
  Json out = Json::object();
  out[stage_ + "_stage"] = std::move(groups);
  return out;
}

std::string Recipe::to_yaml() const {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetNullFormat(YAML::LowerNull);  // "null", as yaml.dump writes it
  emit(out, to_dict());
  if (!out.good()) throw Error("Recipe::to_yaml: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

}  // namespace llmc
