// The model of ATen's CUDA summation order that the fused CUDA kernel adds in: the block shape
// setReduceConfig picks, and the host replay of the order. On a GPU the probe must also confirm
// it against at::sum.
#include <ATen/ATen.h>

#include <cmath>
#include <vector>

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
