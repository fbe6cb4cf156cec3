#include <llmc/error.hpp>
#include <llmc/observers/helpers.hpp>
#include <sstream>

namespace llmc {
namespace {

[[noreturn]] void unsupported(QuantizationStrategy strategy, const std::string& what) {
  throw Error("flatten_for_calibration: " + to_string(strategy) +
              " quantization cannot be applied to " + what);
}

QuantizationStrategy strategy_of(const QuantizationArgs& args) {
  if (!args.strategy().has_value()) {
    throw Error("flatten_for_calibration: args have no strategy (validate the args first)");
  }
  return *args.strategy();
}

int64_t group_size_dividing(const QuantizationArgs& args, int64_t columns, const char* what) {
  const int64_t group_size = args.group_size().value_or(0);
  if (group_size <= 0 || columns % group_size != 0) {
    std::ostringstream msg;
    msg << "flatten_for_calibration: group_size " << group_size << " does not divide the "
        << columns << " columns of the " << what;
    throw Error(msg.str());
  }
  return group_size;
}

void require_dim(const at::Tensor& value, int64_t dim, const char* what, const char* layout) {
  if (value.dim() != dim) {
    std::ostringstream msg;
    msg << "flatten_for_calibration: expected a " << dim << "-D " << what << " " << layout
        << ", got shape " << value.sizes();
    throw Error(msg.str());
  }
}

// Zero padding to block multiples keeps the padded blocks' qparams undistorted and matches the
// padded scale grid vLLM's block kernels expect (CT maybe_pad_tensor_for_block_quant).
at::Tensor flatten_weight_blocks(const at::Tensor& value, const QuantizationArgs& args) {
  require_dim(value, 2, "weight", "(rows, cols)");
  const auto& block = args.block_structure();
  if (!block.has_value() || block->size() != 2 || (*block)[0] <= 0 || (*block)[1] <= 0) {
    throw Error("flatten_for_calibration: block strategy needs block_structure [rows, cols]");
  }
  const int64_t block_rows = (*block)[0];
  const int64_t block_cols = (*block)[1];
  const int64_t pad_rows = (block_rows - value.size(0) % block_rows) % block_rows;
  const int64_t pad_cols = (block_cols - value.size(1) % block_cols) % block_cols;
  at::Tensor padded = value;
  if (pad_rows != 0 || pad_cols != 0) {
    padded = at::constant_pad_nd(value, {0, pad_cols, 0, pad_rows}, 0);
  }
  const int64_t rows = padded.size(0) / block_rows;
  const int64_t cols = padded.size(1) / block_cols;
  return padded.reshape({rows, block_rows, cols, block_cols})
      .transpose(1, 2)
      .flatten(-2, -1)
      .unsqueeze(0);
}

at::Tensor flatten_weight(const at::Tensor& value, const QuantizationArgs& args) {
  const QuantizationStrategy strategy = strategy_of(args);
  switch (strategy) {
    case QuantizationStrategy::Tensor:
      return value.reshape({1, 1, -1});
    case QuantizationStrategy::Channel:
      return value.unsqueeze(-2).unsqueeze(0);
    case QuantizationStrategy::Group:
    case QuantizationStrategy::TensorGroup: {
      const int64_t group_size = group_size_dividing(args, value.size(-1), "weight");
      return value.unflatten(-1, {-1, group_size}).unsqueeze(0);
    }
    case QuantizationStrategy::Block:
      return flatten_weight_blocks(value, args);
    default:
      unsupported(strategy, "weights");
  }
}

at::Tensor flatten_activation(const at::Tensor& value, const QuantizationArgs& args) {
  const QuantizationStrategy strategy = strategy_of(args);
  switch (strategy) {
    case QuantizationStrategy::Tensor:
      return value.reshape({-1, 1, value.size(-1)});
    case QuantizationStrategy::Token:
      return value;
    case QuantizationStrategy::Group:
    case QuantizationStrategy::TensorGroup: {
      require_dim(value, 3, "activation", "(batch, tokens, hidden)");
      const int64_t group_size = group_size_dividing(args, value.size(-1), "activation");
      return value.flatten(0, 1).unflatten(-1, {-1, group_size});
    }
    default:
      unsupported(strategy, "activations");
  }
}

at::Tensor flatten_attention(const at::Tensor& value, const QuantizationArgs& args) {
  const QuantizationStrategy strategy = strategy_of(args);
  if (strategy != QuantizationStrategy::Tensor && strategy != QuantizationStrategy::AttnHead) {
    unsupported(strategy, "attention");
  }
  require_dim(value, 4, "attention state", "(batch, heads, tokens, head_dim)");
  const at::Tensor per_token = value.transpose(1, 2).flatten(0, 1);  // (B*T, heads, d)
  if (strategy == QuantizationStrategy::Tensor) return per_token.flatten(-2, -1).unsqueeze(-2);
  return per_token.unsqueeze(-2).unsqueeze(-2);
}

}  // namespace

bool is_known_base_name(const std::string& base_name) {
  for (const char* known : {"weight", "input", "output", "q", "k", "v"}) {
    if (base_name == known) return true;
  }
  return false;
}

at::Tensor flatten_for_calibration(const at::Tensor& value, const std::string& base_name,
                                   const QuantizationArgs& args) {
  if (base_name == "weight") return flatten_weight(value, args);
  if (base_name == "input" || base_name == "output") return flatten_activation(value, args);
  if (base_name == "q" || base_name == "k" || base_name == "v") {
    return flatten_attention(value, args);
  }
  throw Error("flatten_for_calibration: unknown base name '" + base_name +
              "' (known: weight, input, output, q, k, v)");
}

}  // namespace llmc
