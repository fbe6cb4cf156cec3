// The preset schemes of compressed-tensors 0.19 (quant_scheme.py PRESET_SCHEMES), same names,
// same order, same args.
#include <algorithm>
#include <array>
#include <cctype>
#include <llmc/quant/presets.hpp>
#include <string_view>

#include "field_error.hpp"

namespace llmc {
namespace {

using Strategy = QuantizationStrategy;
constexpr auto kFp8 = c10::ScalarType::Float8_e4m3fn;
constexpr auto kUint8 = c10::ScalarType::Byte;

QuantizationArgs int_group_weights(int64_t bits, bool symmetric = true) {
  return QuantizationArgs()
      .num_bits(bits)
      .strategy(Strategy::Group)
      .group_size(128)
      .symmetric(symmetric);
}

QuantizationArgs dynamic_token(int64_t bits, QuantizationType type) {
  return QuantizationArgs()
      .num_bits(bits)
      .type(type)
      .strategy(Strategy::Token)
      .dynamic(DynamicType::Dynamic);
}

QuantizationArgs float_args(int64_t bits, Strategy strategy) {
  return QuantizationArgs().num_bits(bits).type(QuantizationType::Float).strategy(strategy);
}

QuantizationArgs nvfp4_args() {
  return float_args(4, Strategy::TensorGroup).group_size(16).scale_dtype(kFp8).zp_dtype(kFp8);
}

// MXFP4/MXFP8: groups of 32 sharing a uint8 (E8M0) exponent.
QuantizationArgs mx_args(int64_t bits) {
  return float_args(bits, Strategy::Group).group_size(32).scale_dtype(kUint8).zp_dtype(kUint8);
}

// _int_wnam: int weights of 2..8 bits in groups of 128, plus dynamic per-token int inputs
// unless activations stay 16-bit.
QuantizationScheme int_wnam(int64_t weight_bits, int64_t act_bits) {
  QuantizationScheme scheme;
  scheme.weights(int_group_weights(weight_bits));
  if (act_bits < 16) scheme.input_activations(dynamic_token(act_bits, QuantizationType::Int));
  return scheme;
}

QuantizationScheme weights_only(QuantizationArgs weights) {
  return QuantizationScheme().weights(std::move(weights));
}

QuantizationScheme with_inputs(QuantizationArgs weights, QuantizationArgs inputs) {
  return QuantizationScheme().weights(std::move(weights)).input_activations(std::move(inputs));
}

QuantizationScheme int8_w8a8() {
  return with_inputs(QuantizationArgs().strategy(Strategy::Channel),
                     dynamic_token(8, QuantizationType::Int));
}

QuantizationScheme nvfp4() {
  return with_inputs(nvfp4_args(),
                     nvfp4_args().dynamic(DynamicType::Local).observer("static_minmax"));
}

QuantizationScheme mx(int64_t bits, bool with_activations) {
  if (!with_activations) return weights_only(mx_args(bits));
  return with_inputs(mx_args(bits), mx_args(bits).dynamic(DynamicType::Dynamic));
}

QuantizationScheme fp8_block() {
  return with_inputs(float_args(8, Strategy::Block).block_structure(std::vector<int64_t>{128, 128}),
                     float_args(8, Strategy::Group).group_size(128).dynamic(DynamicType::Dynamic));
}

struct Preset {
  std::string_view name;
  QuantizationScheme (*make)();
};

constexpr std::array<Preset, 30> kPresets{{
    {"UNQUANTIZED", [] { return QuantizationScheme(); }},
    {"W4A16_ASYM", [] { return weights_only(int_group_weights(4, false)); }},
    {"W8A8", int8_w8a8},
    {"INT8", int8_w8a8},
    {"W4AFP8",
     [] { return with_inputs(int_group_weights(4), dynamic_token(8, QuantizationType::Float)); }},
    {"FP8",
     [] {
       return with_inputs(float_args(8, Strategy::Tensor),
                          float_args(8, Strategy::Tensor).observer("static_minmax"));
     }},
    {"FP8_DYNAMIC",
     [] {
       return with_inputs(float_args(8, Strategy::Channel),
                          dynamic_token(8, QuantizationType::Float));
     }},
    {"FP8_BLOCK", fp8_block},
    {"NVFP4A16", [] { return weights_only(nvfp4_args()); }},
    {"NVFP4", nvfp4},
    {"MXFP4A16", [] { return mx(4, false); }},
    {"MXFP4", [] { return mx(4, true); }},
    {"MXFP8A16", [] { return mx(8, false); }},
    {"MXFP8", [] { return mx(8, true); }},
    {"W2A4", [] { return int_wnam(2, 4); }},
    {"W2A8", [] { return int_wnam(2, 8); }},
    {"W2A16", [] { return int_wnam(2, 16); }},
    {"W3A4", [] { return int_wnam(3, 4); }},
    {"W3A8", [] { return int_wnam(3, 8); }},
    {"W3A16", [] { return int_wnam(3, 16); }},
    {"W4A4", [] { return int_wnam(4, 4); }},
    {"W4A8", [] { return int_wnam(4, 8); }},
    {"W4A16", [] { return int_wnam(4, 16); }},
    {"W5A8", [] { return int_wnam(5, 8); }},
    {"W5A16", [] { return int_wnam(5, 16); }},
    {"W6A8", [] { return int_wnam(6, 8); }},
    {"W6A16", [] { return int_wnam(6, 16); }},
    {"W7A8", [] { return int_wnam(7, 8); }},
    {"W7A16", [] { return int_wnam(7, 16); }},
    {"W8A16", [] { return int_wnam(8, 16); }},
}};

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

const Preset* find_preset(const std::string& name) {
  const std::string key = upper(name);
  for (const auto& preset : kPresets) {
    if (preset.name == key) return &preset;
  }
  return nullptr;
}

}  // namespace

QuantizationScheme preset_name_to_scheme(const std::string& name,
                                         const std::vector<std::string>& targets) {
  const Preset* preset = find_preset(name);
  if (preset == nullptr) {
    std::string known;
    for (const auto& p : kPresets) known += (known.empty() ? "" : ", ") + std::string(p.name);
    detail::field_error("scheme", "unknown preset '" + name + "'", known);
  }
  return preset->make().targets(targets).validated();
}

bool is_preset_scheme(const std::string& name) { return find_preset(name) != nullptr; }

std::vector<std::string> preset_scheme_names() {
  std::vector<std::string> names;
  for (const auto& preset : kPresets) names.emplace_back(preset.name);
  return names;
}

}  // namespace llmc
