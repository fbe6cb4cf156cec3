#include "forward_ops.hpp"

#include <llmc/quant/qparams.hpp>

namespace llmc::detail {
namespace {

at::Tensor effective_scale(const at::Tensor& scale, const std::optional<at::Tensor>& global_scale) {
  return global_scale.has_value() ? scale / *global_scale : scale;
}

// x / s (+ zp in x's dtype, added in place like upstream's `scaled += ...`), clamped and rounded.
at::Tensor scale_and_round(const QuantOp& op, const at::Tensor& x, const at::Tensor& scale,
                           const std::optional<at::Tensor>& zero_point) {
  at::Tensor scaled = x / scale;
  if (zero_point.has_value()) scaled.add_(zero_point->to(x.scalar_type()));
  return round_to_quantized_type_args(scaled, op.args, op.q_min, op.q_max);
}

at::Tensor dequantize_values(const at::Tensor& x_q, const at::Tensor& scale,
                             const std::optional<at::Tensor>& zero_point) {
  at::Tensor values = x_q.to(scale.scalar_type());
  if (zero_point.has_value()) values = values - zero_point->to(scale.scalar_type());
  return values * scale;
}

}  // namespace

at::Tensor apply_quantize_op(const QuantOp& op, const at::Tensor& x, const at::Tensor& scale,
                             const std::optional<at::Tensor>& zero_point) {
  const at::Tensor scale_eff = effective_scale(scale, op.global_scale);
  switch (op.mode) {
    case QuantMode::QuantizeDequantize:
      // The fused path never materialises int8/fp8 values: rounded floats go straight back.
      return dequantize_values(scale_and_round(op, x, scale_eff, zero_point), scale_eff,
                               zero_point);
    case QuantMode::Quantize: {
      at::Tensor quantized = scale_and_round(op, x, scale_eff, zero_point);
      return op.dtype.has_value() ? quantized.to(*op.dtype) : quantized;
    }
    case QuantMode::Dequantize:
      return dequantize_values(x, scale_eff, zero_point);
  }
  return {};
}

}  // namespace llmc::detail
