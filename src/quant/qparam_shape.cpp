// Scale / zero-point shapes registered by compressed-tensors' initialize_qparams (LC §6.6).
#include <llmc/error.hpp>
#include <llmc/quant/qparams.hpp>

#include <c10/util/Exception.h>

#include <string>

namespace llmc {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void require_dims(const at::IntArrayRef shape, size_t dims, const std::string& strategy) {
  if (shape.size() < dims) {
    throw Error("qparam_shape: strategy " + strategy + " needs at least " + std::to_string(dims) +
                " observed dimensions, got shape " + c10::str(shape));
  }
}

}  // namespace

std::vector<int64_t> qparam_shape(const QuantizationArgs& args, at::IntArrayRef observed_shape) {
  if (!args.strategy().has_value()) {
    throw Error("qparam_shape: QuantizationArgs must be validated first (strategy unset)");
  }
  const QuantizationStrategy strategy = *args.strategy();
  const std::string name = to_string(strategy);
  const int64_t rank = static_cast<int64_t>(observed_shape.size());
  switch (strategy) {
    case QuantizationStrategy::Tensor:
      return {1};
    case QuantizationStrategy::Token:
      throw Error("qparam_shape: token quantization is dynamic only and has no static qparams");
    case QuantizationStrategy::Channel:
      require_dims(observed_shape, 2, name);
      return {observed_shape[rank - 2], 1};
    case QuantizationStrategy::Group:
    case QuantizationStrategy::TensorGroup: {
      // Upstream only warns when the columns do not divide (strategy_cdiv); the forward pass
      // raises later.
      require_dims(observed_shape, 1, name);
      std::vector<int64_t> shape(observed_shape.begin(), observed_shape.end() - 1);
      shape.push_back(ceil_div(observed_shape[rank - 1], *args.group_size()));
      return shape;
    }
    case QuantizationStrategy::Block: {
      require_dims(observed_shape, 2, name);
      const std::vector<int64_t>& block = *args.block_structure();
      return {ceil_div(observed_shape[rank - 2], block[0]),
              ceil_div(observed_shape[rank - 1], block[1])};
    }
    case QuantizationStrategy::AttnHead:
      require_dims(observed_shape, 3, name);
      return {observed_shape[rank - 3], 1, 1};
  }
  throw Error("qparam_shape: unknown strategy");
}

}  // namespace llmc
