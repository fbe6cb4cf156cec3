// Reading the error memo (see ErrorMemo in grid_search_cpu_isa.hpp): a group's candidate
// errors from each value's row of pows, with the candidates in vector lanes. AVX-512 only (a
// two-register word permute): search_groups calls it for the Avx512 policy alone.
#pragma once

#include <immintrin.h>
#include <string.h>

#include <cstdint>

#include "grid_search_cpu_isa.hpp"

namespace llmc::kernels {
namespace {

// A bf16 scale's 16-bit pattern, or -1 where the memo cannot index it: not a bf16 value, not
// positive, or inf/NaN (or so close below inf that a window from it would reach them).
inline uint32_t memo_bits_of(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline int32_t memo_scale_pattern(float scale) {
  const uint32_t bits = memo_bits_of(scale);
  const auto pattern = static_cast<int32_t>(bits >> 16);
  const bool indexable = (bits & 0xFFFFu) == 0 && pattern > 0 && pattern < kErrorMemoPatternEnd;
  return indexable ? pattern : -1;
}

// A group's errors for candidates [0, count) (count <= kErrorMemoMaxCandidates), whose scales
// are `scale`, read from the memo instead of computed, for groups of a multiple of 64 values:
// each value's row holds its pow under every scale of the window, so one pair of loads and a
// word permute per 16 candidates give that value's pows, as fp32 lanes (a bf16 pattern in the
// high half), one candidate per lane. The sum then runs across values with the candidates in
// lanes, in exactly table_pass's order (StreamingSum<bf16>, then accumulator_lanes and
// lanes_total): for lane l of the 8-float pieces, load j adds values 16j + l and 16j + 8 + l,
// accumulator j % 4 adds the loads, the accumulators add in order, and the total adds lanes
// 0..7 in order. `errors` receives the sums rounded to bf16, `sums` the fp32 sums (both room for
// whole vectors of 16 candidates). Returns false, leaving the group to the table pipeline, where a candidate's
// scale has no column in the memo. (Every value has a row: the memo has one for every value of
// the search's weight.)
template <class S>
bool memo_candidate_errors(const ErrorMemo& memo, const float* values, int64_t size,
                           const float* scale, int64_t count, float* errors, float* sums) {
  const int32_t smallest = memo_scale_pattern(scale[count - 1]);
  if (smallest < 0) return false;
  const int32_t start = memo.block_column[smallest / kErrorMemoBlock];
  if (start < 0) return false;
  alignas(64) uint16_t words[2 * kErrorMemoMaxCandidates] = {};
  for (int64_t i = 0; i < count; ++i) {
    const int32_t pattern = memo_scale_pattern(scale[i]);
    if (pattern < 0) return false;
    const int32_t block_start = memo.block_column[pattern / kErrorMemoBlock];
    const int32_t column = block_start + pattern % kErrorMemoBlock - start;
    if (block_start < 0 || column < 0 || column >= kErrorMemoWindow) return false;
    words[2 * i + 1] = static_cast<uint16_t>(column);  // the high half of lane i
  }
  const auto row = [&](int64_t k) {
    return memo.pows + memo.row_offset[memo_bits_of(values[k]) >> 16] + start;
  };
  const auto add_up = [&]<int kVectors>() {
    constexpr __mmask32 kHighWords = 0xAAAAAAAAu;
    __m512i index[kVectors];
    __m512 total[kVectors];
    for (int v = 0; v < kVectors; ++v) {
      index[v] = _mm512_load_si512(words + 32 * v);
      total[v] = _mm512_setzero_ps();
    }
    for (int64_t l = 0; l < 8; ++l) {
      __m512 acc[4][kVectors];
      for (int a = 0; a < 4; ++a) {
        for (int v = 0; v < kVectors; ++v) acc[a][v] = _mm512_setzero_ps();
      }
      for (int64_t block = 0; block < size; block += 64) {
#pragma GCC unroll 4
        for (int a = 0; a < 4; ++a) {
          const int64_t k = block + 16 * a + l;
          const uint16_t* first = row(k);
          const uint16_t* second = row(k + 8);
          const __m512i first_low = _mm512_loadu_si512(first);
          const __m512i first_high = _mm512_loadu_si512(first + 32);
          const __m512i second_low = _mm512_loadu_si512(second);
          const __m512i second_high = _mm512_loadu_si512(second + 32);
          for (int v = 0; v < kVectors; ++v) {
            const __m512 x = _mm512_castsi512_ps(
                _mm512_maskz_permutex2var_epi16(kHighWords, first_low, index[v], first_high));
            const __m512 y = _mm512_castsi512_ps(
                _mm512_maskz_permutex2var_epi16(kHighWords, second_low, index[v], second_high));
            acc[a][v] = _mm512_add_ps(acc[a][v], _mm512_add_ps(x, y));
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
  if (count > 16) {
    add_up.template operator()<2>();
  } else {
    add_up.template operator()<1>();
  }
  return true;
}

}  // namespace
}  // namespace llmc::kernels
