// QuantizationConfig: compressed-tensors 0.19 quant_config.py — JSON in both directions and the
// requires_calibration_data rule.
#include <array>
#include <llmc/core/registry.hpp>
#include <llmc/quant/presets.hpp>
#include <llmc/quant/quantization_config.hpp>
#include <string_view>

#include "field_error.hpp"

namespace llmc {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<std::string_view, QuantizationStatus>, 5> kStatuses{{
    {"initialized", QuantizationStatus::Initialized},
    {"calibration", QuantizationStatus::Calibration},
    {"frozen", QuantizationStatus::Frozen},
    {"compressed", QuantizationStatus::Compressed},
    {"decompressed", QuantizationStatus::Decompressed},
}};

[[noreturn]] void fail(const std::string& field, const std::string& problem,
                       const std::string& allowed = "") {
  detail::field_error("QuantizationConfig." + field, problem, allowed);
}

const std::string& read_string(const json& value, const std::string& field) {
  if (!value.is_string()) fail(field, "expected a string, got " + value.dump());
  return value.get_ref<const std::string&>();
}

std::vector<std::string> read_strings(const json& value, const std::string& field) {
  if (!value.is_array()) fail(field, "expected a list of strings, got " + value.dump());
  std::vector<std::string> out;
  for (const auto& item : value) out.push_back(read_string(item, field));
  return out;
}

// A group is a scheme, or a list of targets for the preset named like the group
// (model_post_init: {"W4A16": ["Linear"]}).
template <typename Json>
QuantizationScheme read_group(const std::string& name, const Json& value) {
  const std::string field = "config_groups." + name;
  try {
    if (value.is_array()) {
      return preset_name_to_scheme(name, read_strings(json(value), field));
    }
    return QuantizationScheme::from_json(json(value));
  } catch (const std::exception& e) {
    rethrow_with_context("QuantizationConfig." + field, e);
  }
}

template <typename Json>
ConfigGroups read_groups(const Json& value) {
  if (!value.is_object()) fail("config_groups", "expected an object, got " + value.dump());
  ConfigGroups groups;
  for (const auto& [name, group] : value.items())
    groups.emplace_back(name, read_group(name, group));
  return groups;
}

std::optional<QuantizationArgs> read_kv_cache(const json& value) {
  if (value.is_null()) return std::nullopt;
  try {
    return QuantizationArgs::from_json(value);
  } catch (const std::exception& e) {
    rethrow_with_context("QuantizationConfig.kv_cache_scheme", e);
  }
}

void read_field(QuantizationConfig& config, const std::string& key, const json& value) {
  if (key == "quant_method") {
    config.quant_method(read_string(value, key));
  } else if (key == "kv_cache_scheme") {
    config.kv_cache_scheme(read_kv_cache(value));
  } else if (key == "format") {
    config.format(read_string(value, key));
  } else if (key == "quantization_status") {
    config.quantization_status(parse_quantization_status(read_string(value, key)));
  } else if (key == "global_compression_ratio") {
    if (!value.is_null() && !value.is_number()) fail(key, "expected a number, got " + value.dump());
    config.global_compression_ratio(value.is_null() ? std::nullopt
                                                    : std::optional(value.get<double>()));
  } else if (key == "ignore") {
    // Upstream allows null; it means the same as an empty list.
    config.ignore(value.is_null() ? std::vector<std::string>{} : read_strings(value, key));
  }
  // Other keys (version, sparsity_config, transform_config, ...) are ignored, as upstream's
  // extra="ignore" does: they belong to the enclosing checkpoint config.
}

template <typename Json>
QuantizationConfig parse_config(const Json& json_config) {
  if (!json_config.is_object()) {
    throw Error("QuantizationConfig: expected a JSON object, got " + json_config.dump());
  }
  if (!json_config.contains("config_groups")) fail("config_groups", "missing (required)");
  QuantizationConfig config;
  config.config_groups(read_groups(json_config["config_groups"]));
  for (const auto& [key, value] : json_config.items()) {
    if (key != "config_groups") read_field(config, key, json(value));
  }
  return config;
}

bool is_static(const std::optional<QuantizationArgs>& args) {
  return args && args->dynamic() == DynamicType::Static;
}

}  // namespace

std::string to_string(QuantizationStatus status) {
  for (const auto& [name, value] : kStatuses) {
    if (value == status) return std::string(name);
  }
  throw Error("QuantizationStatus: invalid enum value");
}

QuantizationStatus parse_quantization_status(const std::string& text) {
  std::string allowed;
  for (const auto& [name, value] : kStatuses) {
    if (name == text) return value;
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  fail("quantization_status", "unknown '" + text + "'", allowed);
}

// LC §3.2. Upstream compares the weight observer to "imatrix_mse" exactly; we accept every
// spelling the observer registry resolves to it ("IMATRIX-MSE", "imatrix-mse"), because such a
// recipe builds that observer and would otherwise run without the data it needs (DESIGN §5).
bool QuantizationConfig::requires_calibration_data() const {
  if (kv_cache_scheme_) return true;
  // llm-compressor 0.14 compares exactly against these two names; any spelling the observer
  // registry resolves to them counts here (LC §11.11).
  const std::string imatrix = standardize_lookup_name("imatrix_mse");
  const std::string expanded = standardize_lookup_name("nvfp4_expanded_imatrix");
  for (const auto& [name, scheme] : config_groups_) {
    const auto& weights = scheme.weights();
    if (weights && weights->observer()) {
      const std::string observer = standardize_lookup_name(*weights->observer());
      if (observer == imatrix || observer == expanded) return true;
    }
    const auto& inputs = scheme.input_activations();
    if (inputs && inputs->dynamic() != DynamicType::Dynamic) return true;  // static or local
    if (is_static(scheme.output_activations())) return true;
  }
  return false;
}

json QuantizationConfig::to_json() const {
  json groups = json::object();
  for (const auto& [name, scheme] : config_groups_) groups[name] = scheme.to_json();
  return json{{"config_groups", groups},
              {"quant_method", quant_method_},
              {"kv_cache_scheme", kv_cache_scheme_ ? kv_cache_scheme_->to_json() : json(nullptr)},
              {"format", format_},
              {"quantization_status", to_string(quantization_status_)},
              {"global_compression_ratio",
               global_compression_ratio_ ? json(*global_compression_ratio_) : json(nullptr)},
              {"ignore", ignore_}};
}

QuantizationConfig QuantizationConfig::from_json(const json& json_config) {
  return parse_config(json_config);
}

QuantizationConfig QuantizationConfig::from_json(const nlohmann::ordered_json& json_config) {
  return parse_config(json_config);
}

}  // namespace llmc
