// How far ATen's fp32 cascade_sum of non-negative terms can be from their exact sum, and when
// that leaves its rounding to a 16-bit dtype decided: what lets the single-group search take a
// chunk's error sum from counts of its distinct values (grid_search_cpu_value_counts.hpp)
// instead of replaying ATen's order over every element. Private to src/kernels and its tests.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "grid_search_element.hpp"

namespace llmc::kernels {

// An upper bound on the number of fp32 additions on any term's path through cascade_sum's
// vectorized_inner_sum of `size` values of a 16-bit dtype (the order InnerSumStream<T> in
// grid_search_cpu_tensor.hpp replays): one add pairs a load's two halves; rows of 4 loads go
// into acc[0] and cascade every S = 2^level_power rows into acc[1], every S^2 into acc[2] and
// every S^3 into acc[3], so a term meets at most S adds at each of the first three levels and
// rows / S^3 at the last; the levels fold into acc[0] (3 adds), the loads past the last row
// join acc[0][0] (3), the four accumulators add up (3), and the total adds the values past the
// last load (15) and the 8 lanes (8). An addition one of whose operands is an exact zero is
// exact, so a range of m terms also has at most m - 1 inexact additions on any path.
// (`value counts' depth bound covers ATen's cascade` replays the order with counted depths.)
inline int64_t cascade_sum_depth_bound(int64_t size) {
  constexpr int64_t kLoad = 16;  // values per load of a 16-bit dtype
  const int64_t rows = size / kLoad / 4;
  const int64_t ceil_log2 = rows <= 2 ? 1 : std::bit_width(static_cast<uint64_t>(rows - 1));
  const int64_t level_power = std::max<int64_t>(4, ceil_log2 / 4);
  const int64_t step = int64_t{1} << level_power;
  const int64_t structural = 1 + 3 * step + rows / (step * step * step) + 3 + 3 + 3 + 15 + 8;
  return std::min(structural, std::max<int64_t>(size - 1, 0));
}

// The relative error bound of a summation whose terms each pass through at most `depth`
// roundings of fp32 addition (Higham, Accuracy and Stability, §4.2: |s^ - s| <=
// gamma_depth * sum |x_i|, gamma_n = n u / (1 - n u), u = 2^-24), for non-negative terms
// relative to their exact sum; plus `exact_terms` additions in double that computed that
// "exact" sum (each term itself exact: a count times a 16-bit value).
inline double cascade_sum_relative_error(int64_t depth, int64_t exact_terms) {
  const double fp32_u = std::ldexp(1.0, -24);
  const double nu = static_cast<double>(depth) * fp32_u;
  const double gamma = nu / (1.0 - nu);
  const double double_error = static_cast<double>(exact_terms + 1) * std::ldexp(1.0, -52);
  return gamma * (1.0 + double_error) + double_error;
}

// The value, rounded to T (bf16 or fp16, round to nearest even as ATen stores it), of every
// fp32 sum within a relative `relative_error` of the non-negative `exact`, when they all round
// to the same value; nullopt when they do not (near a rounding boundary), or when such a sum
// could reach fp32's overflow, where the bound does not hold. A T value of inf is decided like
// any other.
template <ValueType T>
std::optional<float> decided_rounding(double exact, double relative_error) {
  static_assert(T != ValueType::Float32, "an fp32 sum is not rounded after the cascade");
  if (!(exact >= 0.0)) return std::nullopt;
  const double low = exact * (1.0 - relative_error);
  const double high = exact * (1.0 + relative_error);
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  if (!(high < kFloatMax)) return std::nullopt;
  // The fp32 values the sum can take lie within [floor_f32(low), ceil_f32(high)].
  float low_f = static_cast<float>(low);
  if (static_cast<double>(low_f) > low) low_f = std::nextafter(low_f, 0.0f);
  float high_f = static_cast<float>(high);
  if (static_cast<double>(high_f) < high) {
    high_f = std::nextafter(high_f, std::numeric_limits<float>::infinity());
  }
  const float rounded_low = round_to<T>(low_f);
  const float rounded_high = round_to<T>(high_f);
  if (rounded_low != rounded_high) return std::nullopt;
  return rounded_low;
}

}  // namespace llmc::kernels
