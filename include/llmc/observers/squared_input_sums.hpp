// Σx² per input column of a Linear's input, over every leading dim, in fp32 — the importance
// statistic of imatrix_mse — and a one-entry cache of it for Linears that read the same input:
// q/k/v_proj and gate/up_proj are hooked with one activation tensor, so the reduction runs once
// for the three (two) of them instead of once per module.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace llmc {

// x.float().pow(2).sum(leading dims), bit-identical to upstream's ops; a 1-D input is one
// token. On the CPU (contiguous fp32/bf16/fp16, 2+ columns) one pass reads x once and adds the
// squares in the order of ATen's sum kernel; elsewhere (CUDA among them) it runs the ATen ops,
// on the input's device, with no host synchronisation.
at::Tensor squared_input_sums(const at::Tensor& input);

// Whether squared_input_sums takes the one-pass CPU path for this input.
bool squared_input_sums_one_pass(const at::Tensor& input);

// The same through the ATen ops themselves (convert, square in place, sum), on any device.
at::Tensor squared_input_sums_aten(const at::Tensor& input);

// The sums of the last input seen, reused while that same tensor comes back unmodified (same
// TensorImpl and version counter). Holds a reference to that input until the next one or
// clear(). Not thread-safe: meant for the hooks of one model's forward.
class SquaredInputSumsCache {
 public:
  at::Tensor sums_of(const at::Tensor& input);
  void clear();
  // How many sums were computed, and how many calls reused one (for tests and benchmarks).
  int64_t computed() const { return computed_; }
  int64_t reused() const { return reused_; }

 private:
  at::Tensor input_;
  int64_t version_ = -1;
  at::Tensor sums_;
  int64_t computed_ = 0;
  int64_t reused_ = 0;
};

}  // namespace llmc
