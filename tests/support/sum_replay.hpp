// The grid search kernels' replay of ATen's cascade_sum, exposed to the tests: the group-at-a-
// time sum (aten_inner_sum), the one-group-per-lane sum (lanes_inner_sum) and the streaming sum
// with its checkpoints (StreamingSum) and the table pipeline's steady pass, run with the AVX2
// policy. Implemented in
// sum_replay_avx2.cpp, the only test file built with -mavx2, which includes no ATen or Catch2
// header (their inline functions must not be compiled for AVX2).
#pragma once

#include <cstdint>

namespace llmc::test {

// The error dtype the sums run for: fp32, fp16, bf16 (the values are already representable).
enum class SumDtype : int { Float32, Float16, BFloat16 };

// Whether this CPU runs the AVX2 replay (AVX2 and F16C).
bool sum_replay_supported();

// One row of `size` errors: with importance (fp32, same length) the fp32 weighted sum, else
// the sum rounded to `dtype`, as the kernels compare them.
float replay_group_sum(const float* errors, const float* importance, int64_t size,
                       SumDtype dtype);

// sum_replay_lanes() rows at once, element-major: errors[k * lanes + row] (importance likewise,
// or null); out[row] as replay_group_sum gives it.
int64_t sum_replay_lanes();
void replay_lanes_sum(const float* errors, const float* importance, int64_t size, SumDtype dtype,
                      float* out);

// The streaming sum the kernels build while they produce a candidate's errors (StreamingSum),
// for sizes where it applies (streaming_sum_applies). It returns the final sum as
// replay_group_sum would and writes, at every checkpoint (each streaming_checkpoint_step
// values, before the end), the sum so far: the candidate's lower bound there.
// It also records at every checkpoint what the kernels' cheap abandon test
// (StreamingSum::certainly_reaches) claims about the sum so far: kClaimsAboveTotal when it
// claims the next float above it is reached (a wrong claim), kClaimsJustBelowTotal when it
// claims total * (1 - 2^-16) is (a useful one).
constexpr uint8_t kClaimsAboveTotal = 1;
constexpr uint8_t kClaimsJustBelowTotal = 2;
bool streaming_sum_applies(int64_t size, SumDtype dtype, bool weighted);
int64_t streaming_checkpoint_step(SumDtype dtype, bool weighted);
float replay_streaming_sum(const float* errors, const float* importance, int64_t size,
                           SumDtype dtype, float* checkpoint_sums, uint8_t* checkpoint_claims);

// replay_group_sum without importance, before the sum is rounded to `dtype`: the fp32
// accumulator, in which any change of summation order shows (a 16-bit rounding hides most).
float replay_group_sum_accumulator(const float* errors, int64_t size, SumDtype dtype);

// The sum of the table pipeline's steady pass (table_pass with all three streams: 16-bit error
// dtypes, no importance, sizes where table_pass_applies), given `errors` as the pows it sums;
// rounded to `dtype` as replay_group_sum gives it, and in *unrounded its fp32 accumulator.
// *streams_ok: whether the pass's other two streams (its table lookups and its produced error
// patterns) came out right.
bool table_pass_applies(int64_t size, SumDtype dtype, bool weighted);
float replay_table_pass_sum(const float* errors, int64_t size, SumDtype dtype, bool* streams_ok,
                            float* unrounded);

// The group layout's weighted pass without partial-sum checkpoints (weighted_error: the four
// accumulators as fixed registers), for sizes where weighted_pass_applies, with
// errors^norm * importance as its terms: norm 1 takes the pow tested per vector, norms 2 and 3
// the pow chosen at compile time. `errors` are >= 0 (the pass's quantization maps every value
// to 0 here, so its error is the value itself).
bool weighted_pass_applies(int64_t size);
float replay_weighted_pass_sum(const float* errors, const float* importance, int64_t size,
                               int norm);

// A single scale group's sums (grid_search_cpu_tensor.hpp): the fp32 accumulator of ATen's
// cascade_sum over one contiguous range of `size` values of `dtype` (fp32 for weighted
// products), fed to the kernel's InnerSumStream in range_sum's pieces; and values_sum, the sum
// of the two-pass reduction's per-thread slots.
float replay_range_sum(const float* values, int64_t size, SumDtype dtype);
float replay_values_sum(const float* values, int64_t count, SumDtype dtype);

// The most inexact fp32 additions on any term's path through that cascade_sum of `size` values
// of a 16-bit dtype (an addition with an exactly zero operand is exact, so it does not count):
// InnerSumStream's order, replayed with a depth in place of each accumulator.
int64_t replay_range_sum_depth(int64_t size);

}  // namespace llmc::test
