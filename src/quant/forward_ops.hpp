// Elementwise quantize / dequantize / fused QDQ of compressed-tensors' forward_helpers.py
// (_quantize, _dequantize, _quantize_dequantize), on tensors already shaped so that scale and
// zero point broadcast (private to src/quant; the strategy reshaping lives in forward.cpp).
#pragma once

#include <llmc/quant/quantization_args.hpp>

#include <ATen/ATen.h>
#include <optional>

namespace llmc::detail {

enum class QuantMode { Quantize, Dequantize, QuantizeDequantize };

struct QuantOp {
  const QuantizationArgs& args;
  QuantMode mode;
  // quantize: cast of the rounded values; dequantize: ignored here, as upstream's
  // _apply_quantize_op drops it (only the group path casts afterwards).
  std::optional<c10::ScalarType> dtype;
  const std::optional<at::Tensor>& global_scale;
  at::Tensor q_min;  // calculate_range's 0-dim fp32 tensors
  at::Tensor q_max;
};

at::Tensor apply_quantize_op(const QuantOp& op, const at::Tensor& x, const at::Tensor& scale,
                             const std::optional<at::Tensor>& zero_point);

}  // namespace llmc::detail
