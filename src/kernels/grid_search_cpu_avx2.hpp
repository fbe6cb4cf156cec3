// The AVX2 SIMD policy of the CPU grid search (8 floats per vector): the element ops the
// shared kernels (grid_search_cpu_group.hpp, _lanes.hpp) are written in. Only for translation
// units built with -mavx2 -mf16c -ffp-contract=off (grid_search_cpu_avx2.cpp, and the test
// that replays ATen's sums with it).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "grid_search_float_grids.hpp"
#include "grid_search_problem.hpp"

// Sleef's vector powf as linked into libtorch_cpu: what ATen's Vectorized<float>::pow calls.
extern "C" __m256 Sleef_powf8_u10(__m256, __m256);

namespace llmc::kernels {
namespace {

struct Avx2 {
  using Vec = __m256;
  static constexpr int64_t kWidth = 8;

  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static Vec set1(float v) { return _mm256_set1_ps(v); }
  static float first(Vec v) { return _mm256_cvtss_f32(v); }
  // out[c * 8 + r] = in[r * stride + c] for r, c < 8: unpacks and shuffles of 32-bit, 64-bit
  // and 128-bit pieces.
  static void transpose_tile(const float* in, int64_t stride, float* out) {
    Vec r[8];
    Vec t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(in + i * stride);
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; ++i) {
      r[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      r[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int j = 0; j < 4; ++j) {
      _mm256_storeu_ps(out + j * 8, _mm256_permute2f128_ps(r[j], r[j + 4], 0x20));
      _mm256_storeu_ps(out + (j + 4) * 8, _mm256_permute2f128_ps(r[j], r[j + 4], 0x31));
    }
  }

  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec div(Vec a, Vec b) { return _mm256_div_ps(a, b); }
  static Vec sqrt(Vec a) { return _mm256_sqrt_ps(a); }
  static Vec abs(Vec a) {
    return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
  }
  static Vec pow(Vec base, Vec exponent) { return Sleef_powf8_u10(base, exponent); }
  // NaN passes through: min/max return their second operand when either is NaN.
  static Vec clamp(Vec v, Vec low, Vec high) { return _mm256_max_ps(low, _mm256_min_ps(high, v)); }
  static Vec round_int(Vec v) {  // torch.round: half to even
    return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static Vec select(Vec mask, Vec if_true, Vec if_false) {
    return _mm256_blendv_ps(if_false, if_true, mask);
  }
  // As the scalar `a < b ? a : b` / `a > b ? a : b`: the second operand unless the compare holds.
  static Vec min(Vec a, Vec b) { return _mm256_min_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  // Of NaN-free lanes.
  static float reduce_min(Vec v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_min_ss(m, _mm_shuffle_ps(m, m, 1)));
  }
  static float reduce_max(Vec v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
  }
  static bool any_nan(Vec v) { return _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0; }
  // Lane-wise `a < b ? if_less : otherwise` (false for NaN), and the lanes where a < b as bits.
  static Vec select_less(Vec a, Vec b, Vec if_less, Vec otherwise) {
    return select(_mm256_cmp_ps(a, b, _CMP_LT_OQ), if_less, otherwise);
  }
  static uint32_t less_bits(Vec a, Vec b) {
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_LT_OQ)));
  }
  // The lanes whose bit patterns differ (so +0 and -0 differ, and a NaN equals its own bits).
  static uint32_t unequal_bits(Vec a, Vec b) {
    const __m256i same = _mm256_cmpeq_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b));
    return ~static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(same))) & 0xFFu;
  }
  // `v == 0 ? zero_case : v` and `v != v ? nan_case : v`.
  static Vec replace_zero(Vec v, Vec zero_case) {
    return select(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_EQ_OQ), zero_case, v);
  }
  static Vec replace_nan(Vec v, Vec nan_case) {
    return select(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), nan_case, v);
  }

  // Rounds to T as c10 does (round to nearest even); bf16 NaN becomes 0x7FC0. round_finite
  // skips the NaN case for values known to be finite.
  template <ValueType T>
  static Vec round_finite(Vec v) {
    if constexpr (T == ValueType::Float32) {
      return v;
    } else if constexpr (T == ValueType::BFloat16) {
      const __m256i bits = _mm256_castps_si256(v);
      const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
      const __m256i rounded =
          _mm256_add_epi32(bits, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7FFF)));
      return _mm256_castsi256_ps(
          _mm256_and_si256(rounded, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
    } else {
      return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
  }
  // v rounded to bf16, for v that is not a bf16 rounding midpoint (no tie case): add half a
  // bf16 unit and truncate.
  static Vec round_bf16_off_midpoint(Vec v) {
    return _mm256_castsi256_ps(_mm256_and_si256(
        _mm256_add_epi32(_mm256_castps_si256(v), _mm256_set1_epi32(0x8000)),
        _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
  }
  template <ValueType T>
  static Vec round(Vec v) {
    if constexpr (T == ValueType::BFloat16) {
      return select(_mm256_cmp_ps(v, v, _CMP_UNORD_Q),
                    _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000)), round_finite<T>(v));
    } else {
      return round_finite<T>(v);
    }
  }

  template <ValueType T>
  static Vec load_values(const void* base, int64_t index) {
    if constexpr (T == ValueType::Float32) {
      return _mm256_loadu_ps(static_cast<const float*>(base) + index);
    } else {
      const __m128i halves = _mm_loadu_si128(
          reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + index));
      if constexpr (T == ValueType::BFloat16) {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(halves), 16));
      } else {
        return _mm256_cvtph_ps(halves);
      }
    }
  }

  // The vector as 8-float pieces, in element order (the sum kernel's Vectorized<float>).
  template <class F>
  static void for_each_piece(Vec v, F&& f) {
    f(v);
  }

  // The bits of 16-bit T values held as floats (non-negative: sign bit clear), and back.
  template <ValueType T>
  static __m256i bits16(Vec v) {
    if constexpr (T == ValueType::BFloat16) {
      return _mm256_srli_epi32(_mm256_castps_si256(v), 16);
    } else {
      return _mm256_cvtepu16_epi32(
          _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
  }
  template <ValueType T>
  static Vec from_bits16(int32_t first) {
    const __m256i bits =
        _mm256_add_epi32(_mm256_set1_epi32(first), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    if constexpr (T == ValueType::BFloat16) {
      return _mm256_castsi256_ps(_mm256_slli_epi32(bits, 16));
    } else {
      // Pack the eight 32-bit patterns (all below 2^15) into 16-bit halves.
      const __m128i packed =
          _mm_packus_epi32(_mm256_castsi256_si128(bits), _mm256_extracti128_si256(bits, 1));
      return _mm256_cvtph_ps(packed);
    }
  }
  static void store_bits(int32_t* p, __m256i bits) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), bits);
  }


  // The level table entry (k & 15) for each lane's integral value k (clamped, so in the
  // table's range), rounded half to even as torch.round: levels[0] holds entries 0-7,
  // levels[1] entries 8-15, chosen by bit 3 of k.
  static Vec look_up_level(const Vec* levels, Vec v) {
    const __m256i k = _mm256_cvttps_epi32(round_int(v));
    const Vec low = _mm256_permutevar8x32_ps(levels[0], k);
    const Vec high = _mm256_permutevar8x32_ps(levels[1], k);
    return _mm256_blendv_ps(low, high, _mm256_castsi256_ps(_mm256_slli_epi32(k, 28)));
  }

  // c10::Float8_e4m3fn(v) back to float for |v| <= 448, and compressed-tensors' cast_to_fp4
  // for |v| <= 6 (callers clamp first), but +0 for every zero: grid_search_float_grids.hpp.
  static Vec round_fp8_e4m3(Vec v) {
    return round_by_magic(v, kFp8E4M3LowestExponentField, kFp8E4M3MagicOffset);
  }
  static Vec round_fp4_e2m1(Vec v) {
    return round_by_magic(v, kFp4E2M1LowestExponentField, kFp4E2M1MagicOffset);
  }
  static Vec round_by_magic(Vec v, int32_t lowest_exponent_field, int32_t magic_offset) {
    const __m256i exponent =
        _mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x7F800000));
    const Vec magic = _mm256_castsi256_ps(_mm256_add_epi32(
        _mm256_max_epi32(exponent, _mm256_set1_epi32(lowest_exponent_field)),
        _mm256_set1_epi32(magic_offset)));
    return sub(add(v, magic), magic);
  }

  // compressed-tensors' round_to_power_2 (LC §6.4) of v >= 0, on v's fp32 pattern: add half of
  // FP4's mantissa step, keep sign and exponent. For bf16 and fp32 values this is the same
  // operation on their own pattern (both have 8 exponent bits; bf16's low 16 bits are zero).
  static Vec round_to_power_2(Vec v) {
    const __m256i bits = _mm256_add_epi32(_mm256_castps_si256(v), _mm256_set1_epi32(1 << 21));
    return _mm256_castsi256_ps(
        _mm256_and_si256(bits, _mm256_set1_epi32(static_cast<int>(0xFF800000u))));
  }
  // The MX scale 2^(e8m0 - 127) of powers of two p2 >= 0 (0 and inf included), in fp32:
  // e8m0 = clamp(floor(log2(p2)) + 127 - offset, 0, 255), so 0 for p2 = 0 (log2 gives -inf)
  // and 255 for inf. 2^-127 is an fp32 subnormal, 2^128 inf.
  static Vec mx_scale_of_power_2(Vec p2, int32_t offset) {
    const __m256i exponent = _mm256_srli_epi32(_mm256_castps_si256(p2), 23);
    __m256i e8m0 = _mm256_max_epi32(_mm256_sub_epi32(exponent, _mm256_set1_epi32(offset)),
                                    _mm256_setzero_si256());
    e8m0 = _mm256_blendv_epi8(e8m0, exponent,
                              _mm256_cmpeq_epi32(exponent, _mm256_set1_epi32(255)));
    const __m256i scale = _mm256_blendv_epi8(
        _mm256_slli_epi32(e8m0, 23), _mm256_set1_epi32(0x00400000),
        _mm256_cmpeq_epi32(e8m0, _mm256_setzero_si256()));
    return _mm256_castsi256_ps(scale);
  }
};

}  // namespace
}  // namespace llmc::kernels
