#include <llmc/observers/squared_input_sums.hpp>

#include <numeric>
#include <vector>

#include "../kernels/squared_column_sums.hpp"

namespace llmc {

at::Tensor squared_input_sums(const at::Tensor& input) {
  const at::Tensor detached = input.detach();
  // On the CPU, one pass that adds the squares in ATen's order (same bits, no intermediates).
  if (kernels::squared_column_sums_applies(detached)) {
    return kernels::squared_column_sums_cpu(detached);
  }
  return squared_input_sums_aten(detached);
}

bool squared_input_sums_one_pass(const at::Tensor& input) {
  return kernels::squared_column_sums_applies(input);
}

at::Tensor squared_input_sums_aten(const at::Tensor& input) {
  const at::Tensor detached = input.detach();
  at::Tensor squares;
  if (detached.scalar_type() == at::kFloat) {
    squares = detached.pow(2);
  } else {
    // A fresh fp32 copy: square it in place rather than allocating and filling another.
    squares = detached.to(at::kFloat);
    squares.pow_(2);
  }
  if (squares.dim() <= 1) return squares;
  std::vector<int64_t> dims(static_cast<size_t>(squares.dim() - 1));
  std::iota(dims.begin(), dims.end(), 0);
  return squares.sum(dims);
}

at::Tensor SquaredInputSumsCache::sums_of(const at::Tensor& input) {
  // Inference tensors have no version counter: an in-place change could not be noticed.
  const bool cacheable = !input.is_inference();
  if (cacheable && input_.defined() && input_.is_same(input) && version_ == input._version()) {
    ++reused_;
    return sums_;
  }
  at::Tensor sums = squared_input_sums(input);
  ++computed_;
  if (cacheable) {
    input_ = input;
    version_ = input._version();
    sums_ = sums;
  } else {
    clear();
  }
  return sums;
}

void SquaredInputSumsCache::clear() {
  input_ = at::Tensor();
  version_ = -1;
  sums_ = at::Tensor();
}

}  // namespace llmc
