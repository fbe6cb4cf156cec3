// The preset schemes of compressed-tensors (W4A16, W8A8, FP8, NVFP4, MXFP4, ...; LC §4.3).
//
//   llmc::QuantizationScheme s = llmc::preset_name_to_scheme("nvfp4a16", {"Linear"});
#pragma once

#include <llmc/quant/quantization_scheme.hpp>
#include <string>
#include <vector>

namespace llmc {

// Case-insensitive lookup; throws llmc::Error listing the known presets when unknown.
QuantizationScheme preset_name_to_scheme(const std::string& name,
                                         const std::vector<std::string>& targets);
bool is_preset_scheme(const std::string& name);
// Upper-case names of every preset, in upstream's order.
std::vector<std::string> preset_scheme_names();

}  // namespace llmc
