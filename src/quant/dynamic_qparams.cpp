// compute_dynamic_scales_and_zp of compressed-tensors' quantization/utils/helpers.py: the
// on-the-fly reduction for dynamic activations, then calculate_qparams (LC §6.5 "Dynamic").
#include <llmc/quant/forward.hpp>

#include <llmc/error.hpp>
#include <llmc/quant/qparams.hpp>

#include <c10/util/Exception.h>

#include <string>
#include <vector>

namespace llmc {
namespace {

std::pair<at::Tensor, at::Tensor> tensor_min_max(const at::Tensor& x) {
  auto [min, max] = at::aminmax(x);
  return {std::move(min), std::move(max)};
}

std::pair<at::Tensor, at::Tensor> dynamic_min_max(const at::Tensor& x,
                                                  const QuantizationArgs& args) {
  switch (*args.strategy()) {
    case QuantizationStrategy::Token: {
      // Reduce every dim except batch (0) and token (1); with none left upstream falls back to
      // a tensor-wide aminmax (`if not reduce_dims`).
      std::vector<int64_t> reduce_dims;
      for (int64_t dim = 2; dim < x.dim(); ++dim) reduce_dims.push_back(dim);
      if (reduce_dims.empty()) return tensor_min_max(x);
      return {at::amin(x, reduce_dims, true), at::amax(x, reduce_dims, true)};
    }
    case QuantizationStrategy::Tensor:
      return tensor_min_max(x);
    case QuantizationStrategy::Group:
    case QuantizationStrategy::TensorGroup: {
      const int64_t group_size = *args.group_size();
      const int64_t groups = (x.size(-1) + group_size - 1) / group_size;
      const at::Tensor grouped = x.unflatten(-1, {groups, group_size});
      return {at::amin(grouped, {-1}, false), at::amax(grouped, {-1}, false)};
    }
    default:
      throw Error("compute_dynamic_scales_and_zp: strategy " + to_string(*args.strategy()) +
                  " not supported for dynamic quantization (allowed: token, tensor, group, "
                  "tensor_group)");
  }
}

}  // namespace

std::pair<at::Tensor, at::Tensor> compute_dynamic_scales_and_zp(
    const at::Tensor& x, const QuantizationArgs& args,
    const std::optional<at::Tensor>& global_scale) {
  if (!args.strategy().has_value()) {
    throw Error("compute_dynamic_scales_and_zp: QuantizationArgs must be validated first");
  }
  std::pair<at::Tensor, at::Tensor> min_max;
  try {
    min_max = dynamic_min_max(x, args);
  } catch (const c10::Error& e) {
    throw Error(std::string("compute_dynamic_scales_and_zp: ") + e.what_without_backtrace());
  }
  return calculate_qparams(min_max.first, min_max.second, args, global_scale);
}

}  // namespace llmc
