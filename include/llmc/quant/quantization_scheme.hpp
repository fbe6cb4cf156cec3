// QuantizationScheme: which modules (targets) get which weight/input/output QuantizationArgs,
// plus an optional compression format (LC §4.2). Presets live in presets.hpp.
//
//   auto scheme = llmc::preset_name_to_scheme("W4A16", {"Linear"});
#pragma once

#include <llmc/quant/quantization_args.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace llmc {

struct QuantizationScheme {
  TORCH_ARG(std::vector<std::string>, targets);
  TORCH_ARG(std::optional<QuantizationArgs>, weights) = std::nullopt;
  TORCH_ARG(std::optional<QuantizationArgs>, input_activations) = std::nullopt;
  TORCH_ARG(std::optional<QuantizationArgs>, output_activations) = std::nullopt;
  // Compression format name ("pack-quantized", "nvfp4-pack-quantized", ...); never
  // "mixed-precision".
  TORCH_ARG(std::optional<std::string>, format) = std::nullopt;

 public:  // TORCH_ARG leaves the access specifier at private
  // Validates every args and the scheme rules of LC §4.2; throws llmc::Error.
  QuantizationScheme validated() const;

  nlohmann::json to_json() const;
  static QuantizationScheme from_json(const nlohmann::json& json);
  bool operator==(const QuantizationScheme& other) const;
};

}  // namespace llmc
