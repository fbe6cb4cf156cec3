// compressed-tensors compressors: turn a quantized module's local state dict (weight,
// weight_scale, weight_zero_point, weight_global_scale, ...) into what a checkpoint stores for
// its format, and choose the format per module and per model (LC reference §8.3, §8.4).
//
//   auto format = llmc::io::infer_module_format(scheme);          // "pack-quantized"
//   auto stored = llmc::io::compress_state_dict(state, scheme, format);
#pragma once

#include <llmc/io/safetensors.hpp>
#include <llmc/quant/quantization_scheme.hpp>

#include <string>
#include <vector>

namespace llmc::io {

// Formats in compressed-tensors' priority order, most specific first.
const std::vector<std::string>& compression_formats();

// First format in priority order that can compress a Linear module with `scheme`; "dense" when
// the scheme has no weights. scheme.format(), when set, wins.
std::string infer_module_format(const QuantizationScheme& scheme);

// Model-level format: "dense" for none, the single format, or "mixed-precision" for several.
std::string summarize_formats(const std::vector<std::string>& module_formats);

// Compresses a module's local state dict (keys without the module prefix). Does not modify
// `state`. Throws llmc::Error naming the format and key when something required is missing.
TensorMap compress_state_dict(const TensorMap& state, const QuantizationScheme& scheme,
                              const std::string& format);

}  // namespace llmc::io
