// QuantizationScheme validation and JSON; mirrors compressed-tensors 0.19 quant_scheme.py.
#include <array>
#include <llmc/quant/quantization_scheme.hpp>
#include <string_view>

#include "field_error.hpp"

namespace llmc {
namespace {

using nlohmann::json;

// CompressionFormat values (CT config/base.py); a scheme may name any but mixed-precision,
// which only describes a whole model.
constexpr std::array<std::string_view, 11> kSchemeFormats{"dense",
                                                          "sparse-bitmask",
                                                          "sparse-24-bitmask",
                                                          "int-quantized",
                                                          "float-quantized",
                                                          "naive-quantized",
                                                          "pack-quantized",
                                                          "marlin-24",
                                                          "nvfp4-pack-quantized",
                                                          "mxfp4-pack-quantized",
                                                          "mxfp8-quantized"};

void check_format(const std::string& format) {
  if (format == "mixed-precision") {
    detail::field_error("QuantizationScheme.format",
                        "mixed-precision cannot be the format of a scheme");
  }
  std::string allowed;
  for (auto known : kSchemeFormats) {
    if (known == format) return;
    allowed += (allowed.empty() ? "" : ", ") + std::string(known);
  }
  detail::field_error("QuantizationScheme.format", "unknown '" + format + "'", allowed);
}

// Activation args may not use channel or block scales (upstream: NotImplementedError), and
// activation ordering only means something for GPTQ weights.
void check_activations(const QuantizationScheme& scheme) {
  if (const auto& inputs = scheme.input_activations()) {
    const QuantizationStrategy strategy = *inputs->strategy();
    if (strategy == QuantizationStrategy::Channel || strategy == QuantizationStrategy::Block) {
      detail::field_error("QuantizationScheme.input_activations.strategy",
                          to_string(strategy) + " is not supported for activations",
                          "token, tensor, group, tensor_group, attn_head");
    }
    if (inputs->actorder()) {
      detail::field_error("QuantizationScheme.input_activations.actorder",
                          "cannot apply actorder to input activations", "null");
    }
  }
  if (scheme.output_activations() && scheme.output_activations()->actorder()) {
    detail::field_error("QuantizationScheme.output_activations.actorder",
                        "cannot apply actorder to output activations", "null");
  }
}

std::optional<QuantizationArgs> validated_args(const std::optional<QuantizationArgs>& args,
                                               const std::string& field) {
  if (!args) return std::nullopt;
  try {
    return args->validated();
  } catch (const std::exception& e) {
    rethrow_with_context("QuantizationScheme." + field, e);
  }
}

std::optional<QuantizationArgs> read_args(const json& value, const std::string& field) {
  if (value.is_null()) return std::nullopt;
  try {
    return QuantizationArgs::from_json(value);
  } catch (const std::exception& e) {
    rethrow_with_context("QuantizationScheme." + field, e);
  }
}

std::vector<std::string> read_targets(const json& value) {
  if (!value.is_array()) {
    detail::field_error("QuantizationScheme.targets",
                        "expected a list of strings, got " + value.dump());
  }
  std::vector<std::string> targets;
  for (const auto& target : value) {
    if (!target.is_string()) {
      detail::field_error("QuantizationScheme.targets", "expected strings, got " + target.dump());
    }
    targets.push_back(target.get<std::string>());
  }
  return targets;
}

json args_json(const std::optional<QuantizationArgs>& args) {
  return args ? args->to_json() : json(nullptr);
}

}  // namespace

// Upstream also warns when weights and inputs both use GROUP with different group sizes;
// that is advice for kernel writers, not an error, and is left out here.
QuantizationScheme QuantizationScheme::validated() const {
  QuantizationScheme out = *this;
  out.weights_ = validated_args(weights_, "weights");
  out.input_activations_ = validated_args(input_activations_, "input_activations");
  out.output_activations_ = validated_args(output_activations_, "output_activations");
  check_activations(out);
  // Upstream accepts dynamic per-token weights; the foundation issue asks for an error: weights
  // are observed once and saved, per-token scales exist only for activations.
  if (out.weights_ && out.weights_->strategy() == QuantizationStrategy::Token) {
    detail::field_error("QuantizationScheme.weights.strategy",
                        "token (dynamic per-token scales) is only for activations",
                        "tensor, channel, group, tensor_group, block");
  }
  if (format_) check_format(*format_);
  return out;
}

json QuantizationScheme::to_json() const {
  return json{{"targets", targets_},
              {"weights", args_json(weights_)},
              {"input_activations", args_json(input_activations_)},
              {"output_activations", args_json(output_activations_)},
              {"format", format_ ? json(*format_) : json(nullptr)}};
}

QuantizationScheme QuantizationScheme::from_json(const json& json_scheme) {
  if (!json_scheme.is_object()) {
    throw Error("QuantizationScheme: expected a JSON object, got " + json_scheme.dump());
  }
  if (!json_scheme.contains("targets")) {
    detail::field_error("QuantizationScheme.targets", "missing (required)");
  }
  QuantizationScheme scheme;
  for (const auto& [key, value] : json_scheme.items()) {
    if (key == "targets") {
      scheme.targets(read_targets(value));
    } else if (key == "weights" || key == "input_activations" || key == "output_activations") {
      auto args = read_args(value, key);
      if (key == "weights") scheme.weights(args);
      if (key == "input_activations") scheme.input_activations(args);
      if (key == "output_activations") scheme.output_activations(args);
    } else if (key == "format") {
      if (!value.is_null() && !value.is_string()) {
        detail::field_error("QuantizationScheme.format", "expected a string, got " + value.dump());
      }
      scheme.format(value.is_null() ? std::nullopt : std::optional(value.get<std::string>()));
    } else {
      detail::field_error("QuantizationScheme." + key, "unknown key",
                          "targets, weights, input_activations, output_activations, format");
    }
  }
  return scheme.validated();
}

bool QuantizationScheme::operator==(const QuantizationScheme& other) const {
  return targets_ == other.targets_ && weights_ == other.weights_ &&
         input_activations_ == other.input_activations_ &&
         output_activations_ == other.output_activations_ && format_ == other.format_;
}

}  // namespace llmc
