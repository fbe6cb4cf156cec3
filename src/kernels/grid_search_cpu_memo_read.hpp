// Reading the error memo (see ErrorMemo in grid_search_cpu_isa.hpp): a group's candidate
// errors from each value's row of pows, with the candidates in vector lanes. AVX-512 only (a
// two-register word permute): search_groups calls it for the Avx512 policy alone.
#pragma once

#include <immintrin.h>

#include <bit>
#include <cstdint>

#include "grid_search_cpu_isa.hpp"

namespace llmc::kernels {
namespace {

// The key of the memo's block of scale patterns holding `pattern` for zero-point index z.
inline int32_t memo_block_key(int32_t z, int32_t pattern) {
  return z * static_cast<int32_t>(kErrorMemoPatternBlocks) +
         (pattern >> 3);  // kErrorMemoBlock = 8
}
static_assert(kErrorMemoBlock == 8);

// A group's candidates [0, count) sorted into the memo's windows: one per distinct zero point
// (at most kErrorMemoWindows), each from the block of its smallest scale's pattern.
// A candidate's zero-point index is 0 on symmetric grids (whose errors do not read the zero
// point) and zero_point - q_min on asymmetric ones, which must be an integer in
// [0, kErrorMemoZeroPoints). (-0 and +0 share index -q_min: on a level grid their errors are the
// same, see fill_error_memo.) A scale must be a bf16 value, positive, and below
// kErrorMemoPatternEnd (not inf or NaN, nor so close below inf that a window from it would reach
// them).
struct MemoWindows {
  int count = 0;
  int32_t zero_point[kErrorMemoWindows] = {};  // zero-point index
  int32_t first[kErrorMemoWindows] = {};       // the smallest pattern's block's first pattern
  int32_t largest[kErrorMemoWindows] = {};
  // Per vector of 16 candidates: lane i's column in its window, in the high 16 bits.
  __m512i column[2];
  // [window][vector]: that window's lanes, as the high words of the permute's 32.
  __mmask32 words[kErrorMemoWindows][2] = {};

  int32_t key(int w) const { return memo_block_key(zero_point[w], first[w]); }
  int32_t last_key(int w) const { return memo_block_key(zero_point[w], largest[w]); }
};

// Sorts candidates [0, count) into windows, a vector of 16 at a time. False where a candidate
// has no key, or they need more than kErrorMemoWindows windows or a window wider than
// kErrorMemoWindow columns.
inline bool sort_into_windows(const ErrorMemo& memo, const float* scale, const float* zero_point,
                              int64_t count, MemoWindows& out) {
  if (count < 1 || count > kErrorMemoMaxCandidates) return false;
  const int vectors = count > 16 ? 2 : 1;
  __mmask16 valid[2];
  __m512i pattern[2];
  __m512i z[2];
  __mmask16 bad = 0;
  for (int v = 0; v < vectors; ++v) {
    const int64_t lanes = count - 16 * v < 16 ? count - 16 * v : 16;
    valid[v] = static_cast<__mmask16>((1u << lanes) - 1);
    const __m512i bits = _mm512_maskz_loadu_epi32(valid[v], scale + 16 * v);
    pattern[v] = _mm512_srli_epi32(bits, 16);
    bad |= _mm512_mask_test_epi32_mask(valid[v], bits, _mm512_set1_epi32(0xFFFF));
    bad |= _mm512_mask_cmple_epi32_mask(valid[v], pattern[v], _mm512_setzero_si512());
    bad |= _mm512_mask_cmpge_epi32_mask(valid[v], pattern[v], _mm512_set1_epi32(kErrorMemoPatternEnd));
    if (memo.symmetric) {
      z[v] = _mm512_setzero_si512();
    } else {
      const __m512 index = _mm512_sub_ps(_mm512_maskz_loadu_ps(valid[v], zero_point + 16 * v),
                                         _mm512_set1_ps(memo.q_min));
      z[v] = _mm512_cvttps_epi32(index);
      // Not an integer, or out of range (NaN and huge values convert to INT_MIN).
      bad |= _mm512_mask_cmp_ps_mask(valid[v], _mm512_cvtepi32_ps(z[v]), index, _CMP_NEQ_UQ);
      bad |= _mm512_mask_cmplt_epu32_mask(valid[v], _mm512_set1_epi32(kErrorMemoZeroPoints - 1),
                                          z[v]);
    }
  }
  if (bad != 0) return false;
  __mmask16 left[2] = {valid[0], vectors == 2 ? valid[1] : __mmask16{0}};
  alignas(64) int32_t z_values[16];
  out.column[0] = _mm512_setzero_si512();
  out.column[1] = _mm512_setzero_si512();
  while ((left[0] | left[1]) != 0) {
    if (out.count == kErrorMemoWindows) return false;
    const int w = out.count++;
    // The zero point of the first candidate left.
    const int v0 = left[0] != 0 ? 0 : 1;
    _mm512_store_si512(z_values, z[v0]);
    const int32_t zw = z_values[__builtin_ctz(left[v0])];
    __m512i smallest = _mm512_set1_epi32(INT32_MAX);
    __m512i largest = _mm512_set1_epi32(INT32_MIN);
    __mmask16 mine[2] = {0, 0};
    for (int v = 0; v < vectors; ++v) {
      mine[v] = _mm512_mask_cmpeq_epi32_mask(left[v], z[v], _mm512_set1_epi32(zw));
      smallest = _mm512_mask_min_epi32(smallest, mine[v], smallest, pattern[v]);
      largest = _mm512_mask_max_epi32(largest, mine[v], largest, pattern[v]);
      left[v] &= static_cast<__mmask16>(~mine[v]);
    }
    const int32_t first = _mm512_reduce_min_epi32(smallest) & ~(int32_t{kErrorMemoBlock} - 1);
    const int32_t last = _mm512_reduce_max_epi32(largest);
    if (last - first >= kErrorMemoWindow) return false;
    out.zero_point[w] = zw;
    out.first[w] = first;
    out.largest[w] = last;
    for (int v = 0; v < vectors; ++v) {
      out.column[v] = _mm512_mask_slli_epi32(
          out.column[v], mine[v], _mm512_sub_epi32(pattern[v], _mm512_set1_epi32(first)), 16);
      // A lane's high word has its top bit set exactly where the lane is the window's.
      out.words[w][v] = _mm512_movepi16_mask(
          _mm512_maskz_set1_epi32(mine[v], static_cast<int32_t>(0xFFFF0000u)));
    }
  }
  return true;
}

// A group's errors for candidates [0, count) (count <= kErrorMemoMaxCandidates), whose qparams
// are `scale` and `zero_point`, read from the memo instead of computed, for groups of a multiple
// of 64 values: each value's row holds its pow under every (scale, zero point) of the windows,
// so per window a pair of loads, and per 16 candidates a word permute, give that value's pows,
// as fp32 lanes (a bf16 pattern in the high half), one candidate per lane. (With two windows,
// each candidate's lane comes from its own window's permute.) The sum then runs across values
// with the candidates in lanes, in exactly table_pass's order (StreamingSum<bf16>, then
// accumulator_lanes and lanes_total): for lane l of the 8-float pieces, load j adds values
// 16j + l and 16j + 8 + l, accumulator j % 4 adds the loads, the accumulators add in order,
// and the total adds lanes 0..7 in order. `errors` receives the sums rounded to bf16, `sums`
// the fp32 sums (both room for whole vectors of 16 candidates). Returns false, leaving the
// group to the table pipeline, where a candidate has no column in the memo. (Every value has a
// row: the memo has one for every value of the search's weight.)
template <class S>
bool memo_candidate_errors(const ErrorMemo& memo, const float* values, int64_t size,
                           const float* scale, const float* zero_point, int64_t count,
                           float* errors, float* sums) {
  MemoWindows windows;
  if (!sort_into_windows(memo, scale, zero_point, count, windows)) return false;
  // Each window's first column; its blocks must be stored side by side up to the largest
  // pattern's (they are where the builder stored this window; a round of fewer candidates could
  // otherwise reach past what it stored).
  int32_t start[kErrorMemoWindows] = {};
  for (int w = 0; w < windows.count; ++w) {
    start[w] = memo.block_column[windows.key(w)];
    const int32_t last = memo.block_column[windows.last_key(w)];
    if (start[w] < 0 || last - start[w] != (windows.last_key(w) - windows.key(w)) * kErrorMemoBlock) {
      return false;
    }
  }
  const auto add_up = [&]<int kVectors, int kWindows>() {
    __m512i index[kVectors];
    __m512 total[kVectors];
    for (int v = 0; v < kVectors; ++v) {
      index[v] = windows.column[v];
      total[v] = _mm512_setzero_ps();
    }
    // Value k's pows for the candidates of vector v.
    const auto pows = [&](int64_t k, __m512 (&out)[kVectors]) {
      const int32_t row = memo.row_offset[std::bit_cast<uint32_t>(values[k]) >> 16];
      __m512i low[kWindows];
      __m512i high[kWindows];
      for (int w = 0; w < kWindows; ++w) {
        low[w] = _mm512_loadu_si512(memo.pows + row + start[w]);
        high[w] = _mm512_loadu_si512(memo.pows + row + start[w] + 32);
      }
      for (int v = 0; v < kVectors; ++v) {
        __m512i p = _mm512_maskz_permutex2var_epi16(windows.words[0][v], low[0], index[v],
                                                    high[0]);
        if constexpr (kWindows == 2) {
          p = _mm512_or_si512(p, _mm512_maskz_permutex2var_epi16(windows.words[1][v], low[1],
                                                                 index[v], high[1]));
        }
        out[v] = _mm512_castsi512_ps(p);
      }
    };
    for (int64_t l = 0; l < 8; ++l) {
      __m512 acc[4][kVectors];
      for (int a = 0; a < 4; ++a) {
        for (int v = 0; v < kVectors; ++v) acc[a][v] = _mm512_setzero_ps();
      }
      for (int64_t block = 0; block < size; block += 64) {
#pragma GCC unroll 4
        for (int a = 0; a < 4; ++a) {
          const int64_t k = block + 16 * a + l;
          __m512 x[kVectors];
          __m512 y[kVectors];
          pows(k, x);
          pows(k + 8, y);
          for (int v = 0; v < kVectors; ++v) {
            acc[a][v] = _mm512_add_ps(acc[a][v], _mm512_add_ps(x[v], y[v]));
          }
        }
      }
      for (int v = 0; v < kVectors; ++v) {
        const __m512 lanes = _mm512_add_ps(
            _mm512_add_ps(_mm512_add_ps(acc[0][v], acc[1][v]), acc[2][v]), acc[3][v]);
        total[v] = _mm512_add_ps(total[v], lanes);
      }
    }
    for (int v = 0; v < kVectors; ++v) {
      S::store(sums + 16 * v, total[v]);
      S::store(errors + 16 * v, S::template round<ValueType::BFloat16>(total[v]));
    }
  };
  if (windows.count == 1) {
    count > 16 ? add_up.template operator()<2, 1>() : add_up.template operator()<1, 1>();
  } else {
    count > 16 ? add_up.template operator()<2, 2>() : add_up.template operator()<1, 2>();
  }
  return true;
}

}  // namespace
}  // namespace llmc::kernels
