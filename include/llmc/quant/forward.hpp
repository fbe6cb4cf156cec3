// quantize / dequantize / fake_quantize of compressed-tensors' lifecycle/forward.py for every
// strategy (tensor, channel, group, tensor_group, block incl. padding, token, attn_head) and
// type (int 2–8, fp8 e4m3, fp4 e2m1, MX); LC reference §6.5.
//
//   at::Tensor w_qdq = llmc::fake_quantize(w, scale, zp, args);
#pragma once

#include <llmc/quant/quantization_args.hpp>

#include <ATen/ATen.h>
#include <optional>

namespace llmc {

// Quantized values in `dtype` (default args.pytorch_dtype(); fp4 stays in x's dtype).
at::Tensor quantize(const at::Tensor& x, const at::Tensor& scale,
                    const std::optional<at::Tensor>& zero_point, const QuantizationArgs& args,
                    std::optional<c10::ScalarType> dtype = std::nullopt,
                    const std::optional<at::Tensor>& global_scale = std::nullopt,
                    const std::optional<at::Tensor>& g_idx = std::nullopt);

// Back to real values; result dtype = `dtype` or scale's dtype.
at::Tensor dequantize(const at::Tensor& x_q, const at::Tensor& scale,
                      const std::optional<at::Tensor>& zero_point, const QuantizationArgs& args,
                      std::optional<c10::ScalarType> dtype = std::nullopt,
                      const std::optional<at::Tensor>& global_scale = std::nullopt,
                      const std::optional<at::Tensor>& g_idx = std::nullopt);

// dequantize(quantize(x)) without an intermediate integer tensor; result in x's dtype.
at::Tensor fake_quantize(const at::Tensor& x, const at::Tensor& scale,
                         const std::optional<at::Tensor>& zero_point,
                         const QuantizationArgs& args,
                         const std::optional<at::Tensor>& global_scale = std::nullopt,
                         const std::optional<at::Tensor>& g_idx = std::nullopt);

// Dynamic qparams for activations (compute_dynamic_scales_and_zp).
std::pair<at::Tensor, at::Tensor> compute_dynamic_scales_and_zp(
    const at::Tensor& x, const QuantizationArgs& args,
    const std::optional<at::Tensor>& global_scale = std::nullopt);

}  // namespace llmc
