// flatten_for_calibration: reshapes an observed weight, activation or attention state to
// (num_observations, *qparam_shape, group) so every observer reduces over dims (0, -1)
// (LC reference §5.6, llm-compressor observers/helpers.py).
//
//   at::Tensor flat = llmc::flatten_for_calibration(weight, "weight", args);  // (1, rows, g, gs)
#pragma once

#include <ATen/ATen.h>

#include <llmc/quant/quantization_args.hpp>
#include <string>

namespace llmc {

// Weights (rows, cols): TENSOR (1, 1, rows*cols); CHANNEL (1, rows, 1, cols);
// GROUP/TENSOR_GROUP (1, rows, cols/gs, gs); BLOCK [bh, bw] zero-pads to multiples, then
// (1, R/bh, C/bw, bh*bw) row-major within a block.
// Activations (B, T, H) for input/output: TENSOR (B*T, 1, H); TOKEN unchanged;
// GROUP/TENSOR_GROUP (B*T, H/gs, gs).
// Attention (B, heads, T, d) for q/k/v: TENSOR (B*T, 1, heads*d); ATTN_HEAD (B*T, heads, 1, 1, d).
// Any other combination throws llmc::Error naming the strategy and the base name.
at::Tensor flatten_for_calibration(const at::Tensor& value, const std::string& base_name,
                                   const QuantizationArgs& args);

// True for the base names flatten_for_calibration knows (weight, input, output, q, k, v).
bool is_known_base_name(const std::string& base_name);

}  // namespace llmc
