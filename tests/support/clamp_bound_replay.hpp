// The group kernel's clamp bound (clamp_bounds, grid_search_cpu_group.hpp) exposed to the tests
// beside the exact errors it bounds, both run with the AVX2 policy. Implemented in
// clamp_bound_replay_avx2.cpp, built with -mavx2 like sum_replay_avx2.cpp and for the same
// reason free of ATen and Catch2 headers.
#pragma once

#include <cstdint>

#include "support/sum_replay.hpp"

namespace llmc::test {

// One int grid search as search_groups runs it where the clamp bound applies: the weight dtype,
// the error dtype (fp32 or the weight dtype), int4 (the level-table grids) or int8, and one of
// ATen's specialised pows (0.5, 1, 2, 3).
struct ClampBoundCase {
  SumDtype weight_dtype = SumDtype::BFloat16;
  bool error_in_fp32 = true;
  int num_bits = 4;
  bool symmetric = true;
  double norm = 3.0;
};

// For one group of `size` values (representable in the weight dtype) and, when not null, its
// importance row: candidate i's qparams from the group's range shrunk by p = 1 - i / grid (as
// search_groups computes them), then bounds[i], the clamp bound search_groups compares with the
// best error (-1 where it proves nothing), and errors[i], the candidate's error as
// search_groups compares it (quantization_errors summed in ATen's order).
void replay_clamp_bounds(const ClampBoundCase& c, const float* values, const float* importance,
                         int64_t size, int64_t candidates, double grid, float* bounds,
                         float* errors);

}  // namespace llmc::test
