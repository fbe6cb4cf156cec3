// calculate_qparams / generate_gparam of compressed-tensors' quantization/utils/helpers.py.
// Every step mirrors upstream's torch op and operand order (LC §6.2), because bf16/fp16
// results depend on both; the dtype notes below say where promotion happens.
#include <llmc/quant/qparams.hpp>

#include <llmc/error.hpp>
#include <llmc/quant/check_finite.hpp>
#include "dtype_limits.hpp"
#include <llmc/quant/fp4.hpp>

#include <string>

namespace llmc {
namespace {

void require_validated(const QuantizationArgs& args, const char* caller) {
  if (!args.strategy().has_value() || !args.zp_dtype().has_value()) {
    throw Error(std::string(caller) +
                ": QuantizationArgs must be validated first (strategy and zp_dtype unset; call "
                "QuantizationArgs::validated())");
  }
}

// Symmetric: amax / (range / 2), or MX exponents; zero points are zeros in min's dtype.
std::pair<at::Tensor, at::Tensor> symmetric_qparams(const at::Tensor& min, const at::Tensor& max,
                                                    const at::Tensor& bit_range,
                                                    const QuantizationArgs& args) {
  const at::Tensor max_val_pos = at::maximum(at::abs(min), at::abs(max));
  at::Tensor scales = args.is_mx()
                          ? generate_mx_scales(max_val_pos, args.num_bits())
                          : max_val_pos / (bit_range.to(max_val_pos.scalar_type()) / 2);
  at::Tensor zero_points = at::zeros(scales.sizes(), min.options());
  return {std::move(scales), std::move(zero_points)};
}

// Asymmetric: (max - min) / range and zp = clamp(q_min - min / scale). A 0-dim bf16 min/max
// (dynamic tensor strategy) promotes zp to fp32 against the 0-dim fp32 range, as upstream.
std::pair<at::Tensor, at::Tensor> asymmetric_qparams(const at::Tensor& min, const at::Tensor& max,
                                                     const at::Tensor& bit_min,
                                                     const at::Tensor& bit_max,
                                                     const QuantizationArgs& args) {
  if (args.is_fp4()) {
    throw Error("calculate_qparams: symmetric=false is not supported for FP4 (type float, "
                "num_bits 4); use symmetric=true");
  }
  at::Tensor scales = (max - min) / (bit_max - bit_min).to(max.scalar_type());
  at::Tensor zero_points = at::clamp(bit_min - (min / scales), std::optional<at::Tensor>(bit_min),
                                     std::optional<at::Tensor>(bit_max));
  return {std::move(scales), std::move(zero_points)};
}

}  // namespace

// Its FP4 branch (0.25) compares against FP4_E2M1_DATA.dtype, which is None, so it never fires.
double scale_eps(c10::ScalarType dtype) {
  if (dtype == at::kFloat8_e4m3fn) return 0.125;
  if (c10::isFloatingType(dtype)) return float_limits(dtype).eps;
  return 1.0;
}

std::pair<at::Tensor, at::Tensor> calculate_range(const QuantizationArgs& args,
                                                  at::Device device) {
  // Upstream builds them with torch.tensor(python float): default dtype fp32.
  const auto options = at::TensorOptions().dtype(at::kFloat).device(device);
  return {at::scalar_tensor(args.q_min(), options), at::scalar_tensor(args.q_max(), options)};
}

std::pair<at::Tensor, at::Tensor> calculate_qparams(const at::Tensor& min_vals,
                                                    const at::Tensor& max_vals,
                                                    const QuantizationArgs& args,
                                                    const std::optional<at::Tensor>& global_scale) {
  require_validated(args, "calculate_qparams");
  // One host sync for both (grid searches call this per candidate); details only on failure.
  if (!at::isfinite(min_vals).all().logical_and(at::isfinite(max_vals).all()).item<bool>()) {
    check_finite(min_vals, "calculate_qparams: min_vals");
    check_finite(max_vals, "calculate_qparams: max_vals");
  }
  // Zero must stay representable (LC §6.2 step 1).
  const at::Tensor min = at::minimum(min_vals, at::zeros_like(min_vals));
  const at::Tensor max = at::maximum(max_vals, at::zeros_like(max_vals));
  const auto [bit_min, bit_max] = calculate_range(args, min.device());

  auto [scales, zero_points] = args.symmetric()
                                   ? symmetric_qparams(min, max, bit_max - bit_min, args)
                                   : asymmetric_qparams(min, max, bit_min, bit_max, args);
  // The fp32 global scale promotes a bf16 local scale to fp32 here (step 2).
  if (global_scale.has_value()) scales = *global_scale * scales;
  if (args.scale_dtype().has_value()) {
    scales = round_to_quantized_type_dtype(scales, *args.scale_dtype(),
                                           /*cast_to_original_dtype=*/true);
  }
  if (args.is_mx()) scales = mx_exponents_to_scales(scales, scales.scalar_type());

  const double eps = scale_eps(args.scale_dtype().value_or(scales.scalar_type()));
  scales = at::where(scales == 0, at::scalar_tensor(eps, scales.options()), scales);
  zero_points = round_to_quantized_type_dtype(zero_points, *args.zp_dtype());

  if (scales.dim() == 0) {
    scales = scales.reshape({1});
    zero_points = zero_points.reshape({1});
  }
  return {std::move(scales), std::move(zero_points)};
}

at::Tensor generate_gparam(const at::Tensor& min_vals, const at::Tensor& max_vals,
                           double scale_data_max, double quant_data_max) {
  const at::Tensor min = at::minimum(min_vals, at::zeros_like(min_vals));
  const at::Tensor max = at::maximum(max_vals, at::zeros_like(max_vals));
  at::Tensor max_val_pos = at::maximum(at::abs(min), at::abs(max));
  max_val_pos = at::clamp_min(max_val_pos, float_limits(max_val_pos.scalar_type()).tiny);
  // Python's `float / tensor` is Tensor.__rtruediv__ = reciprocal() * float, not a division.
  const at::Tensor global_scale = max_val_pos.reciprocal() * (scale_data_max * quant_data_max);
  return at::nan_to_num(global_scale, 1.0, 1.0, 1.0).to(at::kFloat).reshape({1});
}

at::Tensor round_to_quantized_type_dtype(const at::Tensor& tensor, c10::ScalarType dtype,
                                         bool cast_to_original_dtype) {
  at::Tensor rounded;
  if (c10::isFloatingType(dtype)) {
    const FloatLimits limits = float_limits(dtype);
    rounded = at::clamp(tensor, limits.lowest, limits.max).to(dtype);
  } else {
    const IntLimits limits = int_limits(dtype);
    rounded = at::round(at::clamp(tensor, limits.min, limits.max)).to(dtype);
  }
  return cast_to_original_dtype ? rounded.to(tensor.scalar_type()) : rounded;
}

at::Tensor round_to_quantized_type_args(const at::Tensor& tensor, const QuantizationArgs& args) {
  const auto [q_min, q_max] = calculate_range(args, tensor.device());
  return round_to_quantized_type_args(tensor, args, q_min, q_max);
}

at::Tensor round_to_quantized_type_args(const at::Tensor& tensor, const QuantizationArgs& args,
                                        const at::Tensor& q_min, const at::Tensor& q_max) {
  const at::Tensor clamped = at::clamp(tensor, std::optional<at::Tensor>(q_min),
                                       std::optional<at::Tensor>(q_max));
  at::Tensor rounded;
  if (args.type() == QuantizationType::Int) {
    rounded = at::round(clamped);
  } else if (args.num_bits() == 8) {
    rounded = clamped.to(at::kFloat8_e4m3fn);
  } else if (args.num_bits() == 4) {
    rounded = cast_to_fp4(clamped);
  } else {
    throw Error("round_to_quantized_type_args: float num_bits " +
                std::to_string(args.num_bits()) + " not supported (allowed: 4, 8)");
  }
  // Upstream casts back to the dtype the input had before clamping.
  return rounded.to(tensor.scalar_type());
}

}  // namespace llmc
