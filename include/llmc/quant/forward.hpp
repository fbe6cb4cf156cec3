// quantize / dequantize / fake_quantize of compressed-tensors' lifecycle/forward.py for every
// strategy (tensor, channel, group, tensor_group, block incl. padding, token, attn_head) and
// type (int 2–8, fp8 e4m3, fp4 e2m1, MX); LC reference §6.5.
//
//   at::Tensor w_qdq = llmc::fake_quantize(w, scale, zp, args);
//
// Dtypes follow upstream's torch path exactly: x / scale runs in the promoted dtype of x and
// scale (x / (scale / global_scale) is fp32 for NVFP4), group and tensor_group results are cast
// to the requested dtype (x's for quantize / fake_quantize, the scale's for dequantize), other
// strategies return the promoted dtype as upstream does. `scale` and `global_scale` are checked
// for NaN/inf (llmc::Error); `x` is not scanned — observers call check_finite on weights (see
// check_finite.hpp) so the hot grid search does not pay a full pass per candidate.
// Errors (bad group size, shapes that do not broadcast) are llmc::Error naming the function.
#pragma once

#include <llmc/quant/quantization_args.hpp>

#include <ATen/ATen.h>
#include <optional>
#include <utility>

namespace llmc {

// Values rounded onto the quantized grid (clamped to [q_min, q_max]). Without `dtype` they stay
// floats in x's (promoted) dtype, like upstream's quantize(dtype=None); compressors pass int8
// (pack-quantized) or args.pytorch_dtype() (float8_e4m3fn).
// `g_idx` (columns → group, GPTQ activation order) permutes columns into group order first;
// it is ignored when it holds -1 (uninitialised), as compressed-tensors did.
at::Tensor quantize(const at::Tensor& x, const at::Tensor& scale,
                    const std::optional<at::Tensor>& zero_point, const QuantizationArgs& args,
                    std::optional<c10::ScalarType> dtype = std::nullopt,
                    const std::optional<at::Tensor>& global_scale = std::nullopt,
                    const std::optional<at::Tensor>& g_idx = std::nullopt);

// Back to real values: (x_q - zp) * scale / global_scale; group/tensor_group results are cast to
// `dtype` (default the scale's dtype).
at::Tensor dequantize(const at::Tensor& x_q, const at::Tensor& scale,
                      const std::optional<at::Tensor>& zero_point, const QuantizationArgs& args,
                      std::optional<c10::ScalarType> dtype = std::nullopt,
                      const std::optional<at::Tensor>& global_scale = std::nullopt,
                      const std::optional<at::Tensor>& g_idx = std::nullopt);

// dequantize(quantize(x)) without an intermediate integer tensor (upstream's fused
// _quantize_dequantize); group/tensor_group results in x's dtype.
at::Tensor fake_quantize(const at::Tensor& x, const at::Tensor& scale,
                         const std::optional<at::Tensor>& zero_point,
                         const QuantizationArgs& args,
                         const std::optional<at::Tensor>& global_scale = std::nullopt,
                         const std::optional<at::Tensor>& g_idx = std::nullopt);

// Dynamic qparams for activations (compute_dynamic_scales_and_zp): token reduces every dim but
// 0 and 1 (a 2-D input therefore reduces to one tensor-wide pair, as upstream), tensor reduces
// all, group/tensor_group reduce within groups of the last dim. Other strategies throw.
std::pair<at::Tensor, at::Tensor> compute_dynamic_scales_and_zp(
    const at::Tensor& x, const QuantizationArgs& args,
    const std::optional<at::Tensor>& global_scale = std::nullopt);

}  // namespace llmc
