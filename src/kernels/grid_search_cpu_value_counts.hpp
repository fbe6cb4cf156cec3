// The single-group search's error sums from counts of its distinct values. A single scale
// group (TENSOR strategy) of 16-bit weights has at most 2^16 distinct values, usually a few
// thousand among millions of elements, and an element's error term depends only on its value
// (and on whether ATen's pow ran its scalar tail there). So a chunk's exact error sum is a dot
// product of the chunk's value counts with the candidate's terms, computed for each distinct
// value once. ATen's fp32 cascade_sum of the same terms differs from that exact sum by at most
// a known relative bound (grid_search_sum_bound.hpp), and what the search compares is that sum
// rounded to the weight dtype: wherever every fp32 sum within the bound rounds to the same
// 16-bit value, that value is ATen's, bit for bit. Only the rare chunk sums near a rounding
// boundary are replayed element by element (range_sum). Private to src/kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "grid_search_cpu_isa.hpp"

namespace llmc::kernels {

// Below this many elements, Auto replays every sum: counting 2^16 patterns would cost more
// than the candidates' passes it saves.
constexpr int64_t kValueCountsMinSize = int64_t{1} << 16;

class ValueCounts {
 public:
  // Counts the values of each of the single group's `chunks` chunks of `chunk` elements (the
  // two-pass reduction's split; one chunk when ATen sums on one thread), where
  // problem.error_memo asks for it (Auto: kValueCountsMinSize elements or more, with fewer
  // distinct values than a quarter of a chunk's elements) and the sums are 16-bit (16-bit
  // weights; no importance; errors in the weight dtype). False, keeping nothing, elsewhere.
  bool build(const GridSearchProblem& problem, int64_t chunks, int64_t chunk);

  // Candidate `candidate`'s sum of each chunk, stored in the weight dtype, into slots[c], with
  // decided[c] = 1, for the chunks whose stored sum the counts decide; the others are left as
  // they were. `terms` is the instruction set's value_terms for the problem. Returns how many
  // chunks it decided (none where the candidate's scale is inf).
  int64_t chunk_sums(const GridSearchProblem& problem, const PowTable& table,
                     ValueTermsFn terms, int64_t candidate, float* slots, uint8_t* decided);

 private:
  int64_t chunks_ = 0;
  int64_t distinct_ = 0;         // distinct values (or tail elements' values) counted
  std::vector<float> values_;    // the distinct values, padded with zeros
  std::vector<double> counts_;   // chunk c's count of values_[d] at c * padded + d
  std::vector<int32_t> tail_values_;   // per scalar-tail element: its value's index
  std::vector<int64_t> tail_chunks_;   // and its chunk
  std::vector<double> relative_error_;  // per chunk: its cascade sum's bound
  std::vector<float> terms_;
  std::vector<float> tail_terms_;
  std::vector<int32_t> bits_;
};

}  // namespace llmc::kernels
