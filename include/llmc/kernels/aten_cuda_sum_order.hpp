// The order in which ATen's CUDA reduction (ATen/native/cuda/Reduce.cuh) adds the G values of
// each row of a contiguous (rows, G) tensor when summing over the last dim, as the grid search
// reference does with every candidate's errors. The fused CUDA kernel adds in this order so
// that its sums, and hence its strict-improvement decisions, are bit for bit ATen's.
//
//   auto order = llmc::kernels::aten_cuda_sum_order(/*group_size=*/128, /*rows=*/4096, 8);
//   float s = llmc::kernels::aten_cuda_row_sum(row, 128, order);  // ATen's float sum of row
//
// One part of the model is not in ATen's headers: the vector width its sum kernel loads (a
// template argument in ReduceSumProdKernel.cu). probe_aten_cuda_sum_order settles it on the
// device at hand by comparing at::sum with aten_cuda_row_sum on values where any other order
// gives another result.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmc::kernels {

struct AtenCudaSumOrder {
  // setReduceConfig's case 1 ("vectorize along input"): rows of at least 128 values are read
  // as vectors of `vec` values, lane l taking vectors l, l + block_width, ..., value i of each
  // into accumulator i. Otherwise lane l takes values l, l + block_width, ..., the m-th into
  // accumulator m % 4 (vt0).
  bool vectorized = false;
  int vec = 4;
  int block_width = 1;  // lanes per row (threadIdx.x), at most a warp
  // Why the model does not cover this shape (ATen would split rows across warps or use its
  // shared-memory tree), or empty when it does.
  std::string unsupported;

  int accumulators() const { return vectorized ? vec : 4; }
};

// The order for `rows` rows of `group_size` values, read `input_vec_size` at a time when
// vectorised (ATen's input_vec_size for the summed dtype).
AtenCudaSumOrder aten_cuda_sum_order(int64_t group_size, int64_t rows, int input_vec_size);

// The float sum of row[0 .. group_size) in `order`: each lane's accumulators, combined in
// index order, then the warp's tree (offsets block_width / 2, ..., 1).
float aten_cuda_row_sum(const float* row, int64_t group_size, const AtenCudaSumOrder& order);

// The input_vec_size widths ATen may use for a dtype of `element_bytes` bytes, most likely
// first: 16-bit types {8, 4}, others {4, 8}.
std::vector<int> aten_cuda_vec_candidates(int element_bytes);

// On `device` (a CUDA device): the first candidate width for which at::sum over the last dim of
// a (min(rows, 1024), group_size) tensor of `dtype` equals aten_cuda_row_sum in every row, or
// nullopt when none does (or the shape is unsupported). Costs one small sum and copy the first
// time; the answer is kept per (device, dtype, group size, probe rows) for the process.
std::optional<int> probe_aten_cuda_sum_order(int64_t group_size, int64_t rows,
                                             c10::ScalarType dtype, const c10::Device& device);

}  // namespace llmc::kernels
