// Strategy dispatch of compressed-tensors' lifecycle/forward.py (_process_quantization,
// _process_group, _process_block); the elementwise math is in forward_ops.cpp (LC §6.5).
#include <llmc/quant/forward.hpp>

#include <llmc/error.hpp>
#include <llmc/quant/check_finite.hpp>
#include <llmc/quant/qparams.hpp>

#include "forward_ops.hpp"

#include <c10/util/Exception.h>

#include <string>

namespace llmc {
namespace {

using detail::QuantMode;
using detail::QuantOp;

std::optional<at::Tensor> unsqueezed(const std::optional<at::Tensor>& t, int64_t dim) {
  return t.has_value() ? std::optional<at::Tensor>(t->unsqueeze(dim)) : std::nullopt;
}

// CT raises for cols >= gs with a remainder; cols < gs fails upstream inside unflatten, so
// both are reported here with the same message shape.
void check_group_columns(const char* caller, int64_t columns, int64_t group_size) {
  if (columns % group_size == 0) return;
  throw Error(std::string(caller) + ": columns " + std::to_string(columns) +
              " not divisible by group_size " + std::to_string(group_size) +
              " (group quantization needs columns to be a multiple of group_size)");
}

// g_idx maps each column to its group; -1 marks an uninitialised index (ignored upstream).
std::optional<at::Tensor> group_permutation(const char* caller,
                                            const std::optional<at::Tensor>& g_idx,
                                            int64_t columns) {
  if (!g_idx.has_value() || !g_idx->defined() || g_idx->is_meta()) return std::nullopt;
  if (g_idx->dim() != 1 || g_idx->size(0) != columns) {
    throw Error(std::string(caller) + ": g_idx must have shape (" + std::to_string(columns) +
                ",), got " + c10::str(g_idx->sizes()));
  }
  if ((*g_idx == -1).any().item<bool>()) return std::nullopt;
  return at::argsort(*g_idx);
}

at::Tensor process_group(const QuantOp& op, const char* caller, at::Tensor x, at::Tensor scale,
                         std::optional<at::Tensor> zero_point,
                         const std::optional<at::Tensor>& g_idx) {
  const int64_t group_size = op.args.group_size().value_or(0);
  const c10::ScalarType output_dtype = op.dtype.value_or(x.scalar_type());
  const int64_t columns = x.size(-1);
  while (scale.dim() < 2) {
    scale = scale.unsqueeze(1);
    zero_point = unsqueezed(zero_point, 1);
  }
  check_group_columns(caller, columns, group_size);
  const std::optional<at::Tensor> perm = group_permutation(caller, g_idx, columns);
  if (perm.has_value()) x = x.index_select(-1, *perm);

  x = x.unflatten(-1, {columns / group_size, group_size});
  at::Tensor output =
      detail::apply_quantize_op(op, x, scale.unsqueeze(-1), unsqueezed(zero_point, -1));
  output = output.flatten(-2).to(output_dtype);
  if (perm.has_value()) output = output.index_select(-1, at::argsort(*perm));
  return output;
}

// Zero-pad to whole blocks, view as (R/bh, C/bw, bh, bw), quantize, undo and crop.
at::Tensor process_block(const QuantOp& op, const char* caller, const at::Tensor& x,
                         const at::Tensor& scale, const std::optional<at::Tensor>& zero_point) {
  if (x.dim() != 2) {
    throw Error(std::string(caller) + ": block strategy needs a 2-D tensor, got shape " +
                c10::str(x.sizes()));
  }
  const std::vector<int64_t>& block = *op.args.block_structure();
  const int64_t rows = x.size(0), cols = x.size(1);
  const int64_t pad_rows = (block[0] - rows % block[0]) % block[0];
  const int64_t pad_cols = (block[1] - cols % block[1]) % block[1];
  const at::Tensor padded =
      pad_rows == 0 && pad_cols == 0 ? x : at::constant_pad_nd(x, {0, pad_cols, 0, pad_rows}, 0);
  const int64_t padded_rows = rows + pad_rows, padded_cols = cols + pad_cols;

  const at::Tensor blocks =
      padded.reshape({padded_rows / block[0], block[0], padded_cols / block[1], block[1]})
          .transpose(1, 2);
  const std::optional<at::Tensor> zp_blocks =
      zero_point.has_value()
          ? std::optional<at::Tensor>(zero_point->unsqueeze(-1).unsqueeze(-1))
          : std::nullopt;
  at::Tensor output = detail::apply_quantize_op(op, blocks, scale.unsqueeze(-1).unsqueeze(-1),
                                                zp_blocks);
  output = output.transpose(1, 2).reshape({padded_rows, padded_cols});
  if (pad_rows != 0 || pad_cols != 0) output = output.slice(0, 0, rows).slice(1, 0, cols);
  return output;
}

void check_qparams(const char* caller, const at::Tensor& scale,
                   const std::optional<at::Tensor>& global_scale) {
  check_finite(scale, std::string(caller) + ": scale");
  if (global_scale.has_value()) check_finite(*global_scale, std::string(caller) + ": global_scale");
}

at::Tensor process_quantization(const char* caller, QuantMode mode, const at::Tensor& x,
                                const at::Tensor& scale,
                                const std::optional<at::Tensor>& zero_point,
                                const QuantizationArgs& args,
                                std::optional<c10::ScalarType> dtype,
                                const std::optional<at::Tensor>& global_scale,
                                const std::optional<at::Tensor>& g_idx) {
  if (!args.strategy().has_value()) {
    throw Error(std::string(caller) + ": QuantizationArgs must be validated first (strategy "
                                      "unset; call QuantizationArgs::validated())");
  }
  check_qparams(caller, scale, global_scale);
  auto [q_min, q_max] = calculate_range(args, x.device());
  const QuantOp op{args, mode, dtype, global_scale, std::move(q_min), std::move(q_max)};
  try {
    switch (*args.strategy()) {
      case QuantizationStrategy::Block:
        return process_block(op, caller, x, scale, zero_point);
      case QuantizationStrategy::Group:
      case QuantizationStrategy::TensorGroup:
        return process_group(op, caller, x, scale, zero_point, g_idx);
      default:  // tensor, channel, token, attn_head: plain broadcasting
        return detail::apply_quantize_op(op, x, scale, zero_point);
    }
  } catch (const c10::Error& e) {
    // Shapes that do not broadcast surface from ATen; keep llmc's one exception type.
    throw Error(std::string(caller) + ": " + e.what_without_backtrace());
  }
}

}  // namespace

at::Tensor quantize(const at::Tensor& x, const at::Tensor& scale,
                    const std::optional<at::Tensor>& zero_point, const QuantizationArgs& args,
                    std::optional<c10::ScalarType> dtype,
                    const std::optional<at::Tensor>& global_scale,
                    const std::optional<at::Tensor>& g_idx) {
  return process_quantization("quantize", QuantMode::Quantize, x, scale, zero_point, args, dtype,
                              global_scale, g_idx);
}

at::Tensor dequantize(const at::Tensor& x_q, const at::Tensor& scale,
                      const std::optional<at::Tensor>& zero_point, const QuantizationArgs& args,
                      std::optional<c10::ScalarType> dtype,
                      const std::optional<at::Tensor>& global_scale,
                      const std::optional<at::Tensor>& g_idx) {
  return process_quantization("dequantize", QuantMode::Dequantize, x_q, scale, zero_point, args,
                              dtype.value_or(scale.scalar_type()), global_scale, g_idx);
}

at::Tensor fake_quantize(const at::Tensor& x, const at::Tensor& scale,
                         const std::optional<at::Tensor>& zero_point,
                         const QuantizationArgs& args,
                         const std::optional<at::Tensor>& global_scale,
                         const std::optional<at::Tensor>& g_idx) {
  return process_quantization("fake_quantize", QuantMode::QuantizeDequantize, x, scale,
                              zero_point, args, std::nullopt, global_scale, g_idx);
}

}  // namespace llmc
