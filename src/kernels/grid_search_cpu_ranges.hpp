// Each scale group's min and max, the search's starting range, on a SIMD policy `S`: one pass
// over the weight where at::amin and at::amax make two slower ones (8 ms of a 70-120 ms W4
// search on 4096x4096 bf16, 2 cores). Included by each instruction set's file.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "grid_search_cpu_group.hpp"

namespace llmc::kernels {
namespace {

// The scalar pass, for groups holding a NaN or an infinity: NaN if any value is NaN (as
// at::amin / at::amax propagate it), else the plain min and max.
template <ValueType V>
void group_range_scalar(const void* observed, int64_t offset, int64_t size, float& low,
                        float& high) {
  low = std::numeric_limits<float>::infinity();
  high = -low;
  bool nan = false;
  for (int64_t k = 0; k < size; ++k) {
    const float x = load_scalar<V>(observed, offset + k);
    nan |= x != x;
    low = x < low ? x : low;
    high = x > high ? x : high;
  }
  if (nan) low = high = std::numeric_limits<float>::quiet_NaN();
}

// Returns whether every value of the groups is finite.
template <class S, ValueType V>
bool group_ranges(const GridSearchProblem& problem, int64_t begin, int64_t end, void* min_out,
                  void* max_out) {
  using Vec = typename S::Vec;
  const int64_t size = problem.group_size;
  const int64_t whole = size / S::kWidth * S::kWidth;
  const Vec zero = S::set1(0.0f);
  bool every_finite = true;
  for (int64_t group = begin; group < end; ++group) {
    const int64_t offset = group * size;
    Vec low = S::set1(std::numeric_limits<float>::infinity());
    Vec high = S::set1(-std::numeric_limits<float>::infinity());
    // x * 0 is 0 for a finite x and NaN otherwise: a non-finite value sends the group to the
    // scalar pass (vector min/max would drop NaN).
    Vec finite = zero;
    for (int64_t k = 0; k < whole; k += S::kWidth) {
      const Vec x = S::template load_values<V>(problem.observed, offset + k);
      low = S::min(low, x);
      high = S::max(high, x);
      finite = S::add(finite, S::mul(x, zero));
    }
    float group_low = S::reduce_min(low);
    float group_high = S::reduce_max(high);
    bool all_finite = !S::any_nan(finite);
    for (int64_t k = whole; k < size; ++k) {
      const float x = load_scalar<V>(problem.observed, offset + k);
      all_finite &= std::isfinite(x);
      group_low = x < group_low ? x : group_low;
      group_high = x > group_high ? x : group_high;
    }
    if (!all_finite) group_range_scalar<V>(problem.observed, offset, size, group_low, group_high);
    every_finite &= all_finite;
    store_scalar<V>(min_out, group, group_low);
    store_scalar<V>(max_out, group, group_high);
  }
  return every_finite;
}

template <class S>
bool group_ranges_for(const GridSearchProblem& problem, int64_t begin, int64_t end,
                      void* min_out, void* max_out) {
  switch (problem.value_type) {
    case ValueType::Float16:
      return group_ranges<S, ValueType::Float16>(problem, begin, end, min_out, max_out);
    case ValueType::BFloat16:
      return group_ranges<S, ValueType::BFloat16>(problem, begin, end, min_out, max_out);
    case ValueType::Float32:
      break;
  }
  return group_ranges<S, ValueType::Float32>(problem, begin, end, min_out, max_out);
}

}  // namespace
}  // namespace llmc::kernels
