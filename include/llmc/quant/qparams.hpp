// Scale / zero-point math of compressed-tensors (LC reference §6.1–6.4, §6.6):
// calculate_qparams, the NVFP4 global scale, and the qparam shapes per strategy.
//
//   auto [scale, zp] = llmc::calculate_qparams(min_vals, max_vals, args);
#pragma once

#include <llmc/quant/quantization_args.hpp>

#include <ATen/ATen.h>
#include <optional>
#include <utility>
#include <vector>

namespace llmc {

// (q_min, q_max) of args as 0-dim fp32 tensors on `device`, like CT's calculate_range; they
// take part in type promotion exactly as upstream's (a 0-dim bf16 min promotes to fp32).
std::pair<at::Tensor, at::Tensor> calculate_range(const QuantizationArgs& args,
                                                  at::Device device);

// (scale, zero_point). Arithmetic runs in min/max's dtype exactly as upstream (bf16 stays bf16);
// zero-scale replacement by the dtype's eps, zp rounded half-to-even into args.zp_dtype.
// Requires validated args. Throws llmc::Error when min/max hold NaN or inf (a NaN weight reaches
// every observer's min/max, so this is where non-finite weights are reported) and for
// asymmetric FP4 (NotImplementedError upstream).
std::pair<at::Tensor, at::Tensor> calculate_qparams(
    const at::Tensor& min_vals, const at::Tensor& max_vals, const QuantizationArgs& args,
    const std::optional<at::Tensor>& global_scale = std::nullopt);

// What replaces a zero scale of `dtype` (the scale_dtype, else the scale's own dtype): upstream's
// _get_dtype_eps, fp8 e4m3 0.125, other floats finfo.eps, integers (MX's uint8) 1.
double scale_eps(c10::ScalarType dtype);

// NVFP4 global scale 2688/amax, computed in the input dtype, NaN/inf → 1, returned fp32 (1,).
at::Tensor generate_gparam(const at::Tensor& min_vals, const at::Tensor& max_vals,
                           double scale_data_max = 448.0, double quant_data_max = 6.0);

// Clamp to the dtype's finite range and round into it: float dtypes cast (RNE), integer
// dtypes round half-to-even. Returns a tensor of `dtype` (upstream's
// round_to_quantized_type_dtype with cast_to_original_dtype=False), or of the input's dtype
// when `cast_to_original_dtype`.
at::Tensor round_to_quantized_type_dtype(const at::Tensor& tensor, c10::ScalarType dtype,
                                         bool cast_to_original_dtype = false);

// Clamp to [q_min, q_max] of args and round (int: half-to-even, fp8: e4m3 cast, fp4: E2M1),
// keeping the input dtype.
at::Tensor round_to_quantized_type_args(const at::Tensor& tensor, const QuantizationArgs& args);
// Same with the range given as calculate_range's tensors (the forward pass reuses them).
at::Tensor round_to_quantized_type_args(const at::Tensor& tensor, const QuantizationArgs& args,
                                        const at::Tensor& q_min, const at::Tensor& q_max);

// Shape of <base>_scale / <base>_zero_point registered by CT's initialize_qparams for an
// observed tensor of `observed_shape` (LC §6.6): tensor (1,), channel (rows, 1), group and
// tensor_group (*leading, ceil(cols/gs)), block (ceil(R/bh), ceil(C/bw)), attn_head
// (heads, 1, 1). Token (dynamic only) and too few dimensions throw llmc::Error.
std::vector<int64_t> qparam_shape(const QuantizationArgs& args, at::IntArrayRef observed_shape);

}  // namespace llmc
