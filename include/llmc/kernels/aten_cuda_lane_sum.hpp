// One lane's share of a row sum in ATen's CUDA reduction order (aten_cuda_sum_order.hpp):
// which of the row's values lane `lane` takes, into which of its accumulators, and how it
// combines them. Host and device code: the fused CUDA grid search (grid_search_cuda.cu) runs
// it on every candidate's errors, and the tests run the same code on the CPU against
// aten_cuda_row_sum, so the kernel's order is checked without a GPU.
//
//   const auto term = [&](int64_t, int64_t k) { return errors[k]; };
//   float lane_sum = llmc::kernels::aten_lane_sum<4, 8>(lane, block_width, 128, term, term);
#pragma once

#include <llmc/kernels/rounded_ops.hpp>

#include <cstdint>

namespace llmc::kernels {

// kVec = 0: the strided order (rows under 128 values): lane l takes values l, l + block_width,
// ..., the j-th into accumulator j % 4 (ATen's vt0). kVec > 0: vectors of kVec values, lane l
// taking vectors l, l + block_width, ..., value i of each into accumulator i.
template <int kVec>
struct AtenLaneOrder {
  static_assert(kVec == 0 || kVec == 4 || kVec == 8, "ATen loads 4 or 8 values at a time");
  static constexpr int kAccumulators = kVec == 0 ? 4 : kVec;

  // The row index of lane `lane`'s j-th value, or -1 past its last (and on lanes at or past
  // block_width, which ATen does not give this row).
  static LLMC_HOST_DEVICE int64_t element(int lane, int64_t j, int block_width, int64_t size) {
    if (lane >= block_width) return -1;
    int64_t k;
    if constexpr (kVec == 0) {
      k = lane + j * block_width;
    } else {
      k = (lane + (j / kVec) * block_width) * kVec + j % kVec;
    }
    return k < size ? k : -1;
  }
};

// The lane's sum: its j-th term is row value k's, `held(j, k)` for the first kRegisters (the
// loop is unrolled, so j is a constant there: the kernel holds those values in registers) and
// `loaded(j, k)` for the rest, which run in steps of the accumulator count, so accumulator a
// still takes the terms j ≡ a in order. The accumulators combine in index order (ATen starts
// from 0 + the first, which is exact).
template <int kVec, int kRegisters, typename Held, typename Loaded>
LLMC_HOST_DEVICE float aten_lane_sum(int lane, int block_width, int64_t size, const Held& held,
                                     const Loaded& loaded) {
  using Order = AtenLaneOrder<kVec>;
  constexpr int kAccumulators = Order::kAccumulators;
  static_assert(kRegisters % kAccumulators == 0, "the tail must start at accumulator 0");
  float acc[kAccumulators];
#pragma unroll
  for (int a = 0; a < kAccumulators; ++a) acc[a] = 0.0f;
#pragma unroll
  for (int j = 0; j < kRegisters; ++j) {
    const int64_t k = Order::element(lane, j, block_width, size);
    if (k >= 0) acc[j % kAccumulators] = add_rn(acc[j % kAccumulators], held(j, k));
  }
  for (int64_t j0 = kRegisters; Order::element(lane, j0, block_width, size) >= 0;
       j0 += kAccumulators) {
#pragma unroll
    for (int a = 0; a < kAccumulators; ++a) {
      const int64_t k = Order::element(lane, j0 + a, block_width, size);
      if (k >= 0) acc[a] = add_rn(acc[a], loaded(j0 + a, k));
    }
  }
  float sum = acc[0];
#pragma unroll
  for (int a = 1; a < kAccumulators; ++a) sum = add_rn(sum, acc[a]);
  return sum;
}

}  // namespace llmc::kernels
