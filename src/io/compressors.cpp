#include <llmc/error.hpp>
#include <llmc/io/compressors.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/packing.hpp>

#include <algorithm>
#include <functional>
#include <optional>

namespace llmc::io {
namespace {

using Tensor = at::Tensor;

struct Compressor {
  std::string format;
  // Whether a Linear module with this scheme can be stored in `format` (upstream can_compress).
  std::function<bool(const QuantizationScheme&)> can_compress;
  std::function<void(TensorMap&, const QuantizationScheme&)> compress;
};

std::optional<Tensor> find(const TensorMap& state, const std::string& key) {
  auto it = state.find(key);
  if (it == state.end()) return std::nullopt;
  return it->second;
}

Tensor require(const TensorMap& state, const std::string& key, const std::string& format) {
  auto t = find(state, key);
  if (!t) throw Error(format + " compressor: state dict has no '" + key + "'");
  return *t;
}

// vLLM does not load zero points of symmetric args, so compressors drop them (upstream
// _remove_symmetric_zp).
void remove_symmetric_zero_points(TensorMap& state, const QuantizationScheme& scheme) {
  if (scheme.input_activations() && scheme.input_activations()->symmetric()) {
    state.erase("input_zero_point");
  }
  if (scheme.weights() && scheme.weights()->symmetric()) state.erase("weight_zero_point");
  if (scheme.output_activations() && scheme.output_activations()->symmetric()) {
    state.erase("output_zero_point");
  }
}

bool weights_are(const QuantizationScheme& s, QuantizationType type) {
  return s.weights() && s.weights()->type() == type;
}

// Weight quantized into args.pytorch_dtype(); BLOCK weights are padded to whole blocks first
// and cropped back (upstream NaiveQuantizationCompressor).
void compress_naive(TensorMap& state, const QuantizationScheme& scheme) {
  const auto& args = *scheme.weights();
  const Tensor weight = require(state, "weight", "naive-quantized");
  state.erase("weight");
  const Tensor scale = require(state, "weight_scale", "naive-quantized");
  const auto zero_point = find(state, "weight_zero_point");
  Tensor padded = weight;
  if (args.strategy() == QuantizationStrategy::Block && args.block_structure()) {
    const auto& block = *args.block_structure();
    const int64_t pad_rows = (block[0] - weight.size(0) % block[0]) % block[0];
    const int64_t pad_cols = (block[1] - weight.size(1) % block[1]) % block[1];
    if (pad_rows != 0 || pad_cols != 0) {
      padded = at::constant_pad_nd(weight, {0, pad_cols, 0, pad_rows}, 0);
    }
  }
  Tensor q = quantize(padded, scale, zero_point, args, args.pytorch_dtype());
  if (q.sizes() != weight.sizes()) {
    q = q.slice(0, 0, weight.size(0)).slice(1, 0, weight.size(1)).contiguous();
  }
  state["weight"] = q;
  remove_symmetric_zero_points(state, scheme);
}

void compress_mxfp8(TensorMap& state, const QuantizationScheme& scheme) {
  compress_naive(state, scheme);
  const auto dtype = scheme.weights()->scale_dtype().value_or(at::kByte);
  state["weight_scale"] = compress_mx_scale(state.at("weight_scale"), dtype);
}

// Signed ints packed LSB-first into int32 words; asymmetric GROUP/CHANNEL zero points are
// packed along dim 0 (upstream PackedQuantizationCompressor).
void compress_packed(TensorMap& state, const QuantizationScheme& scheme) {
  const auto& args = *scheme.weights();
  const Tensor weight = require(state, "weight", "pack-quantized");
  state.erase("weight");
  const Tensor scale = require(state, "weight_scale", "pack-quantized");
  const auto zero_point = find(state, "weight_zero_point");
  const Tensor q = quantize(weight, scale, zero_point, args, at::kChar);
  state["weight_packed"] = pack_to_int32(q, args.num_bits());
  state["weight_shape"] = at::tensor(weight.sizes().vec(), at::kLong);
  const auto strategy = args.strategy();
  if (!args.symmetric() && (strategy == QuantizationStrategy::Group ||
                            strategy == QuantizationStrategy::Channel)) {
    if (!zero_point) throw Error("pack-quantized compressor: asymmetric weights need weight_zero_point");
    state["weight_zero_point"] = pack_to_int32(*zero_point, args.num_bits(), 0).contiguous();
  }
  remove_symmetric_zero_points(state, scheme);
}

// FP4 values as nibbles; the scale is stored in scale_dtype (fp8 e4m3 for NVFP4, E8M0 for MX).
void compress_fp4(TensorMap& state, const QuantizationScheme& scheme, bool mx) {
  const auto& args = *scheme.weights();
  const std::string format = mx ? "mxfp4-pack-quantized" : "nvfp4-pack-quantized";
  const Tensor weight = require(state, "weight", format);
  state.erase("weight");
  const Tensor scale = require(state, "weight_scale", format);
  const auto global_scale = find(state, "weight_global_scale");
  const auto zero_point = find(state, "weight_zero_point");
  const Tensor q = quantize(weight, scale, zero_point, args, std::nullopt, global_scale);
  state["weight_packed"] = pack_fp4_to_uint8(q);
  state["weight_scale"] =
      mx ? compress_mx_scale(scale, args.scale_dtype().value_or(at::kByte))
         : scale.to(args.scale_dtype().value_or(at::kFloat8_e4m3fn));
  remove_symmetric_zero_points(state, scheme);
}

const std::vector<Compressor>& compressors() {
  using S = const QuantizationScheme&;
  static const std::vector<Compressor> table = {
      {"mxfp4-pack-quantized",
       [](S s) {
         return weights_are(s, QuantizationType::Float) && s.weights()->num_bits() == 4 &&
                s.weights()->group_size() == 32;
       },
       [](TensorMap& t, S s) { compress_fp4(t, s, true); }},
      {"mxfp8-quantized",
       [](S s) {
         return weights_are(s, QuantizationType::Float) && s.weights()->num_bits() == 8 &&
                s.weights()->group_size() == 32 && s.weights()->scale_dtype() == at::kByte;
       },
       compress_mxfp8},
      {"nvfp4-pack-quantized",
       [](S s) {
         return weights_are(s, QuantizationType::Float) && s.weights()->num_bits() == 4 &&
                s.weights()->group_size() == 16;
       },
       [](TensorMap& t, S s) { compress_fp4(t, s, false); }},
      {"int-quantized",
       [](S s) { return s.input_activations() && weights_are(s, QuantizationType::Int); },
       compress_naive},
      {"pack-quantized",
       [](S s) {
         const bool float_inputs = s.input_activations() &&
                                   s.input_activations()->type() == QuantizationType::Float;
         return !float_inputs && weights_are(s, QuantizationType::Int) &&
                s.weights()->num_bits() >= 1 && s.weights()->num_bits() <= 8;
       },
       compress_packed},
      {"float-quantized",
       [](S s) { return s.input_activations() && weights_are(s, QuantizationType::Float); },
       compress_naive},
      {"naive-quantized", [](S s) { return s.weights().has_value(); }, compress_naive},
      {"dense", [](S) { return true; }, [](TensorMap&, S) {}},
  };
  return table;
}

const Compressor& compressor_for(const std::string& format) {
  for (const auto& c : compressors()) {
    if (c.format == format) return c;
  }
  std::string known;
  for (const auto& c : compressors()) known += (known.empty() ? "" : ", ") + c.format;
  throw Error("unknown compression format '" + format + "' (known: " + known + ")");
}

}  // namespace

const std::vector<std::string>& compression_formats() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& c : compressors()) out.push_back(c.format);
    return out;
  }();
  return names;
}

std::string infer_module_format(const QuantizationScheme& scheme) {
  if (scheme.format()) return *scheme.format();
  for (const auto& c : compressors()) {
    if (c.can_compress(scheme)) return c.format;
  }
  return "dense";
}

std::string summarize_formats(const std::vector<std::string>& module_formats) {
  std::vector<std::string> distinct;
  for (const auto& f : module_formats) {
    if (f != "dense" && std::find(distinct.begin(), distinct.end(), f) == distinct.end()) {
      distinct.push_back(f);
    }
  }
  if (distinct.empty()) return "dense";
  return distinct.size() == 1 ? distinct.front() : "mixed-precision";
}

TensorMap compress_state_dict(const TensorMap& state, const QuantizationScheme& scheme,
                              const std::string& format) {
  const Compressor& compressor = compressor_for(format);
  if (format != "dense" && !scheme.weights()) {
    throw Error(format + " compressor: scheme has no weights args");
  }
  TensorMap out = state;
  compressor.compress(out, scheme);
  return out;
}

}  // namespace llmc::io
