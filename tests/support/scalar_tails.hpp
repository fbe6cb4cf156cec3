// The grid search kernels' cursor over ATen's scalar pow tails (ScalarTails in
// src/kernels/grid_search_cpu_group.hpp), exposed to the tests. Implemented in
// scalar_tails_avx2.cpp, built with -mavx2 like the AVX2 kernel (no ATen or Catch2 header there).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace llmc::test {

// The elements ScalarTails visits for each of `windows` ([begin, end), in increasing order),
// given the tail ranges `tails` (sorted, disjoint) of a general pow (`general`) or of an ATen
// specialisation: per window, the visited elements as absolute indices, in visiting order.
std::vector<std::vector<int64_t>> replay_scalar_tails(
    const std::vector<std::pair<int64_t, int64_t>>& tails, bool general,
    const std::vector<std::pair<int64_t, int64_t>>& windows);

}  // namespace llmc::test
