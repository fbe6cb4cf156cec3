// Building the error memo, the instruction-set parts (see ErrorMemo in grid_search_cpu_isa.hpp):
// each group's window of candidate scales, and the memo's entries, computed by the group
// kernel's own element code. Int grids on bf16 weights with bf16 errors only (uses_error_memo);
// only the AVX-512 file instantiates them (the reads, grid_search_cpu_memo_read.hpp, need
// AVX-512).
#pragma once

#include <cstdint>

#include "grid_search_cpu_group.hpp"
#include "grid_search_cpu_memo_read.hpp"

namespace llmc::kernels {
namespace {

// Groups [begin, end)'s candidate qparams as the search computes them (candidates_qparams over
// all problem.candidates), sorted into windows (sort_into_windows): keys[2 * group + w] is
// window w's first block key, or -1.
template <class S>
void error_memo_windows(const GridSearchProblem& problem, const ErrorMemo& memo, int64_t begin,
                        int64_t end, int32_t* keys) {
  constexpr ValueType V = ValueType::BFloat16;
  const int64_t count = problem.candidates;
  float p[kErrorMemoMaxCandidates + kCpuPad];
  float scale[kErrorMemoMaxCandidates + kCpuPad];
  float zero_point[kErrorMemoMaxCandidates + kCpuPad];
  for (int64_t i = 0; i < kErrorMemoMaxCandidates + kCpuPad; ++i) {
    p[i] = static_cast<float>(1.0 - static_cast<double>(i) / problem.grid);
  }
  for (int64_t group = begin; group < end; ++group) {
    const float min0 = load_scalar<V>(problem.initial_min, group);
    const float max0 = load_scalar<V>(problem.initial_max, group);
    candidates_qparams<S, V>(min0, max0, p, 0, count, problem.quant, scale, zero_point);
    MemoWindows windows;
    const bool fits = sort_into_windows(memo, scale, zero_point, count, windows);
    for (int w = 0; w < kErrorMemoWindows; ++w) {
      keys[2 * group + w] = fits && w < windows.count ? windows.key(w) : -1;
    }
  }
}

// The memo's entries for stored blocks [begin, end) of layout.blocks (the block of key
// z * kErrorMemoPatternBlocks + b holds scale patterns b * kErrorMemoBlock + j with zero point
// q_min + z, or 0 on symmetric grids, whose errors do not read it): for each row's value and
// each column's qparams, the 16-bit pow of
// quantization_error, by the group kernel's own candidate_vecs and quantization_error, a vector
// of rows at a time, and the pow table's entry for it (search_groups' lookup). A block's columns
// for a vector of rows are gathered in a tile and written as one piece per row: written a column
// at a time, the rows' cache lines were each fetched again for every column. (A candidate's zero
// point of -0 reads the column of +0: on the level grids both give the same errors, as v + -0 is
// v, v + +0 differs only for v = -0, and the level lookup and k - zero_point take either zero
// to the same integer 0 and level.)
template <class S, Grid G>
void fill_error_memo(const GridSearchProblem& problem, const PowTable& table,
                     const ErrorMemoLayout& layout, int64_t begin, int64_t end) {
  constexpr ValueType V = ValueType::BFloat16;
  static_assert(G == Grid::IntSymmetric || G == Grid::IntSymmetricLevels ||
                G == Grid::IntAsymmetricLevels);
  const LevelIntegers integers(problem.quant);
  const typename S::Vec low = S::set1(problem.quant.q_min);
  const typename S::Vec high = S::set1(problem.quant.q_max);
  alignas(64) int32_t patterns[kErrorMemoBlock][S::kWidth];
  alignas(64) uint16_t tile[S::kWidth][kErrorMemoBlock];
  CandidateVecs<S> candidates[kErrorMemoBlock];
  for (int64_t b = begin; b < end; ++b) {
    const int32_t block = layout.blocks[b];
    const int32_t z = block / static_cast<int32_t>(kErrorMemoPatternBlocks);
    const float zero_point = layout.symmetric ? 0.0f : problem.quant.q_min + static_cast<float>(z);
    for (int64_t j = 0; j < kErrorMemoBlock; ++j) {
      const auto pattern =
          static_cast<uint32_t>(block % kErrorMemoPatternBlocks * kErrorMemoBlock + j);
      candidates[j] = candidate_vecs<S, V, G>(
          GroupQParams{float_from_bits(pattern << 16), zero_point}, integers);
    }
    uint16_t* out = layout.pows + layout.block_column[block];
    for (int64_t r = 0; r < layout.padded_rows; r += S::kWidth) {
      const typename S::Vec x = S::load(layout.row_values + r);
      for (int64_t j = 0; j < kErrorMemoBlock; ++j) {
        S::store_bits(patterns[j], S::template bits16<V>(quantization_error<S, V, V, G>(
                                       x, candidates[j], low, high)));
      }
      for (int64_t t = 0; t < S::kWidth; ++t) {
        for (int64_t j = 0; j < kErrorMemoBlock; ++j) tile[t][j] = table.bits[patterns[j][t]];
        memcpy(out + (r + t) * layout.row_words, tile[t], sizeof tile[t]);
      }
    }
  }
}

}  // namespace
}  // namespace llmc::kernels
