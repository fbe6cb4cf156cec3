// QuantizationConfig: the `quantization_config` block of a compressed-tensors checkpoint —
// named config groups of schemes, kv-cache scheme, ignore list, format and status (LC §4.4).
#pragma once

#include <llmc/quant/quantization_scheme.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llmc {

enum class QuantizationStatus { Initialized, Calibration, Frozen, Compressed, Decompressed };
std::string to_string(QuantizationStatus status);
QuantizationStatus parse_quantization_status(const std::string& text);

// Named schemes, ordered like the JSON/YAML they came from (group_0, group_1, ...).
using ConfigGroups = std::vector<std::pair<std::string, QuantizationScheme>>;

struct QuantizationConfig {
  TORCH_ARG(ConfigGroups, config_groups);
  TORCH_ARG(std::string, quant_method) = "compressed-tensors";
  TORCH_ARG(std::optional<QuantizationArgs>, kv_cache_scheme) = std::nullopt;
  TORCH_ARG(std::string, format) = "fakequant";
  TORCH_ARG(QuantizationStatus, quantization_status) = QuantizationStatus::Initialized;
  TORCH_ARG(std::optional<double>, global_compression_ratio) = std::nullopt;
  TORCH_ARG(std::vector<std::string>, ignore);

 public:  // TORCH_ARG leaves the access specifier at private
  // True when calibration data is needed (kv cache, imatrix_mse weights, static inputs or
  // outputs) — the rule of LC §3.2.
  bool requires_calibration_data() const;

  nlohmann::json to_json() const;
  // Accepts list-valued groups (`W4A16: ["Linear"]` → the preset named by the group key);
  // extra keys are ignored as upstream does (extra="ignore"). nlohmann::json sorts keys, so
  // pass an ordered_json to keep the groups in file order.
  static QuantizationConfig from_json(const nlohmann::json& json);
  static QuantizationConfig from_json(const nlohmann::ordered_json& json);
};

}  // namespace llmc
