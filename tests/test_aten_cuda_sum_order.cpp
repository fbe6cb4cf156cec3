// The model of ATen's CUDA summation order that the fused CUDA kernel adds in: the block shape
// setReduceConfig picks, and the host replay of the order. On a GPU the probe must also confirm
// it against at::sum.
#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <llmc/kernels/aten_cuda_lane_sum.hpp>
#include <llmc/kernels/aten_cuda_sum_order.hpp>

#include "support/catch.hpp"

using llmc::kernels::aten_cuda_row_sum;
using llmc::kernels::aten_cuda_sum_order;
using llmc::kernels::AtenCudaSumOrder;

TEST_CASE("aten_cuda_sum_order gives the block shape setReduceConfig picks for grid search rows") {
  // Rows of 128 or more are read as vectors, one warp (or half) per row.
  auto order = aten_cuda_sum_order(128, 4096, 4);
  CHECK(order.unsupported.empty());
  CHECK(order.vectorized);
  CHECK(order.block_width == 32);
  CHECK(order.accumulators() == 4);
  order = aten_cuda_sum_order(128, 4096, 8);
  CHECK(order.vectorized);
  CHECK(order.block_width == 16);
  CHECK(order.accumulators() == 8);
  order = aten_cuda_sum_order(256, 4096, 4);
  CHECK(order.block_width == 32);
  // Short rows (NVFP4's 16, int4 g32/g64) are strided over last_pow2(G) lanes, vt0 = 4.
  order = aten_cuda_sum_order(16, 4096, 8);
  CHECK_FALSE(order.vectorized);
  CHECK(order.block_width == 16);
  CHECK(order.accumulators() == 4);
  CHECK(aten_cuda_sum_order(96, 4096, 4).block_width == 32);
  // With fewer than 16 rows the block is only 8 rows tall and 64 lanes wide.
  CHECK(aten_cuda_sum_order(96, 10, 4).block_width == 64);
  CHECK_FALSE(aten_cuda_sum_order(96, 10, 4).unsupported.empty());
  // Few rows widen the block past a warp: ATen's shared-memory tree, not modelled.
  CHECK_FALSE(aten_cuda_sum_order(256, 4, 4).unsupported.empty());
  CHECK(aten_cuda_sum_order(256, 16, 4).unsupported.empty());
  // Long rows (channel strategy on few rows) are split across warps.
  CHECK_FALSE(aten_cuda_sum_order(4096, 1, 4).unsupported.empty());
  CHECK(aten_cuda_sum_order(4096, 4096, 4).unsupported.empty());
  // Misaligned vector rows.
  CHECK_FALSE(aten_cuda_sum_order(130, 4096, 4).unsupported.empty());
}

TEST_CASE("aten_cuda_row_sum adds every value once and in the modelled order") {
  // Distinct powers of two far apart sum exactly in any order: every value is counted once.
  for (const auto& [size, vec] : std::vector<std::pair<int64_t, int>>{
           {16, 4}, {32, 4}, {64, 4}, {96, 4}, {128, 4}, {128, 8}, {256, 4}, {256, 8}, {4096, 4}}) {
    const AtenCudaSumOrder order = aten_cuda_sum_order(size, 4096, vec);
    REQUIRE(order.unsupported.empty());
    std::vector<float> ones(static_cast<size_t>(size), 1.0f);
    CAPTURE(size, vec);
    CHECK(aten_cuda_row_sum(ones.data(), size, order) == static_cast<float>(size));
  }
  // Order: 1 followed by values of half an ulp of 1, which vanish when added to 1 one by one
  // (ties to even) and survive when added to each other first.
  const float tiny = std::ldexp(1.0f, -24);
  std::vector<float> row(128, 0.0f);
  row[0] = 1.0f;
  row[1] = row[2] = row[3] = tiny;  // vector 0, lane 0 with 4-wide loads
  row[4] = row[5] = row[6] = row[7] = tiny;
  // 4-wide: lane 0 adds 1 + tiny + tiny + tiny = 1; lane 1 holds 4 tiny = 2^-22, which the
  // tree adds to lane 0 last: 1 + 2^-22.
  CHECK(aten_cuda_row_sum(row.data(), 128, aten_cuda_sum_order(128, 4096, 4)) ==
        1.0f + std::ldexp(1.0f, -22));
  // 8-wide: lane 0 adds all eight serially into its accumulators 0..7 (1 and seven tiny, one
  // each), then combines them in index order: every tiny vanishes.
  CHECK(aten_cuda_row_sum(row.data(), 128, aten_cuda_sum_order(128, 4096, 8)) == 1.0f);
  // Strided (rows under 128), 16 lanes of one value each: the tree's offset 4 leaves lane 0 at
  // 1 (1 + tiny ties to even) and lanes 1-3 at 2 tiny; offset 2 gives lane 0 1 + 2^-23 and
  // lane 1 2^-22; offset 1 adds that.
  CHECK(aten_cuda_row_sum(row.data(), 16, aten_cuda_sum_order(16, 4096, 8)) ==
        1.0f + std::ldexp(1.0f, -23) + std::ldexp(1.0f, -22));
}

namespace {

// The fused CUDA kernel's sum of one row, run on the CPU: every lane's aten_lane_sum (the
// kernel's own code, 8 values per lane held), then the kernel's butterfly, over the 32 lanes or,
// where the row has at most 16 (two candidates per warp), over each half (offsets 16 or 8 down
// to 1, lanes past block_width holding 0). It must leave the same value in every lane: NaN when
// the lanes disagree.
template <int kVec>
float kernel_row_sum(const float* row, int64_t size, int block_width) {
  const int slot_lanes = block_width <= 16 ? 16 : 32;
  std::vector<float> lanes(32);
  const auto term = [row](int64_t, int64_t k) { return row[k]; };
  for (int lane = 0; lane < 32; ++lane) {
    lanes[static_cast<size_t>(lane)] =
        llmc::kernels::aten_lane_sum<kVec, 8>(lane % slot_lanes, block_width, size, term, term);
  }
  for (int offset = slot_lanes / 2; offset > 0; offset /= 2) {
    std::vector<float> next(32);
    for (int lane = 0; lane < 32; ++lane) {
      next[static_cast<size_t>(lane)] =
          lanes[static_cast<size_t>(lane)] + lanes[static_cast<size_t>(lane ^ offset)];
    }
    lanes = next;
  }
  for (const float lane : lanes) {
    if (std::memcmp(&lane, &lanes[0], sizeof(float)) != 0) return std::nanf("");
  }
  return lanes[0];
}

float kernel_row_sum(const float* row, int64_t size, const AtenCudaSumOrder& order, int vec) {
  switch (vec) {
    case 4: return kernel_row_sum<4>(row, size, order.block_width);
    case 8: return kernel_row_sum<8>(row, size, order.block_width);
    default: return kernel_row_sum<0>(row, size, order.block_width);
  }
}

// Positive values over 24 binades: almost every addition rounds, so another order shows.
std::vector<float> spread_values(int64_t count, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int> exponent(-20, 3);
  std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
  std::vector<float> values(static_cast<size_t>(count));
  for (float& v : values) v = std::ldexp(mantissa(generator), exponent(generator));
  return values;
}

}  // namespace

TEST_CASE("the CUDA kernel's lane sums, run on the CPU, add in the modelled ATen order") {
  constexpr int64_t kRows = 64;
  for (const int64_t size : {8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 384, 1024, 4096}) {
    for (const int width : {4, 8}) {
      const AtenCudaSumOrder order = aten_cuda_sum_order(size, 4096, width);
      if (!order.unsupported.empty()) continue;
      const int vec = order.vectorized ? order.vec : 0;
      const std::vector<float> values = spread_values(kRows * size, static_cast<uint32_t>(size));
      int64_t equal = 0;
      int64_t differ_from_other_order = 0;
      for (int64_t r = 0; r < kRows; ++r) {
        const float* row = values.data() + r * size;
        const float expected = aten_cuda_row_sum(row, size, order);
        const float kernel = kernel_row_sum(row, size, order, vec);
        equal += std::memcmp(&kernel, &expected, sizeof(float)) == 0;
        // The check can fail: the same rows added in another of the kernel's orders differ.
        const int other = vec == 0 ? 4 : (vec == 4 ? 8 : 4);
        AtenCudaSumOrder other_order = order;
        other_order.vectorized = true;
        other_order.vec = other;
        if (size % other == 0) {
          const float wrong = kernel_row_sum(row, size, other_order, other);
          differ_from_other_order += std::memcmp(&wrong, &expected, sizeof(float)) != 0;
        }
      }
      CAPTURE(size, width, vec, order.block_width);
      CHECK(equal == kRows);
      if (size >= 32) CHECK(differ_from_other_order > 0);
    }
  }
}

TEST_CASE("CUDA probe confirms ATen's summation order for the grid search's rows") {
  if (!at::hasCUDA()) {
    WARN("SKIPPED: no CUDA device; ATen's CUDA summation order was not probed");
    return;
  }
  const c10::Device device(at::kCUDA, 0);
  for (const auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
    for (const int64_t size : {16, 32, 64, 128, 256}) {
      const auto vec = llmc::kernels::probe_aten_cuda_sum_order(size, 4096, dtype, device);
      CAPTURE(c10::toString(dtype), size);
      CHECK(vec.has_value());
      if (vec) UNSCOPED_INFO(c10::toString(dtype) << " G=" << size << ": vec " << *vec);
    }
  }
}
