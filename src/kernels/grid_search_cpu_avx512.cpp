// The CPU grid search on AVX-512 (16 floats per vector), for hosts where ATen runs its AVX512
// kernels. Built with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mf16c -ffp-contract=off
// (CMakeLists.txt); only called after ATen has reported that capability.
#include "grid_search_cpu_memo.hpp"
#include "grid_search_cpu_ranges.hpp"
#include "grid_search_cpu_select.hpp"
#include "grid_search_float_grids.hpp"

// Sleef's vector powf as linked into libtorch_cpu: what ATen's Vectorized<float>::pow calls.
extern "C" __m512 Sleef_powf16_u10(__m512, __m512);

namespace llmc::kernels {
namespace {

struct Avx512 {
  using Vec = __m512;
  static constexpr int64_t kWidth = 16;

  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static Vec set1(float v) { return _mm512_set1_ps(v); }
  static float first(Vec v) { return _mm512_cvtss_f32(v); }
  // out[c * 16 + r] = in[r * stride + c] for r, c < 16: unpacks and shuffles of 32-bit, 64-bit
  // and 128-bit pieces (64 shuffles where element copies took 256 loads and stores).
  static void transpose_tile(const float* in, int64_t stride, float* out) {
    Vec r[16];
    Vec t[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(in + i * stride);
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {
      r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 4; ++j) {
        t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
        t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
      }
    }
    for (int j = 0; j < 8; ++j) {
      _mm512_storeu_ps(out + j * 16, _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88));
      _mm512_storeu_ps(out + (j + 8) * 16, _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd));
    }
  }

  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  static Vec div(Vec a, Vec b) { return _mm512_div_ps(a, b); }
  static Vec sqrt(Vec a) { return _mm512_sqrt_ps(a); }
  static Vec abs(Vec a) { return _mm512_abs_ps(a); }
  static Vec pow(Vec base, Vec exponent) { return Sleef_powf16_u10(base, exponent); }
  // NaN passes through, as in the scalar `v < low ? low : (v > high ? high : v)`: min/max
  // return their second operand when either is NaN.
  static Vec clamp(Vec v, Vec low, Vec high) { return _mm512_max_ps(low, _mm512_min_ps(high, v)); }
  static Vec round_int(Vec v) {  // torch.round: half to even
    return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // As the scalar `a < b ? a : b` / `a > b ? a : b`: the second operand unless the compare holds.
  static Vec min(Vec a, Vec b) { return _mm512_min_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
  // Of NaN-free lanes.
  static float reduce_min(Vec v) { return _mm512_reduce_min_ps(v); }
  static float reduce_max(Vec v) { return _mm512_reduce_max_ps(v); }
  static bool any_nan(Vec v) { return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) != 0; }
  // Lane-wise `a < b ? if_less : otherwise` (false for NaN), and the lanes where a < b as bits.
  static Vec select_less(Vec a, Vec b, Vec if_less, Vec otherwise) {
    return _mm512_mask_mov_ps(otherwise, _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), if_less);
  }
  static uint32_t less_bits(Vec a, Vec b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static uint32_t unequal_bits(Vec a, Vec b) {
    return _mm512_cmpneq_epi32_mask(_mm512_castps_si512(a), _mm512_castps_si512(b));
  }
  // `v == 0 ? zero_case : v` and `v != v ? nan_case : v`.
  static Vec replace_zero(Vec v, Vec zero_case) {
    return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_EQ_OQ),
                              zero_case);
  }
  static Vec replace_nan(Vec v, Vec nan_case) {
    return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), nan_case);
  }

  // Rounds to T as c10 does (round to nearest even); bf16 NaN becomes 0x7FC0. round_finite
  // skips the NaN case for values known to be finite.
  template <ValueType T>
  static Vec round_finite(Vec v) {
    if constexpr (T == ValueType::Float32) {
      return v;
    } else if constexpr (T == ValueType::BFloat16) {
      const __m512i bits = _mm512_castps_si512(v);
      const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
      const __m512i rounded =
          _mm512_add_epi32(bits, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF)));
      return _mm512_castsi512_ps(
          _mm512_and_si512(rounded, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
    } else {
      return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
  }
  // v rounded to bf16, for v that is not a bf16 rounding midpoint (no tie case): add half a
  // bf16 unit and truncate.
  static Vec round_bf16_off_midpoint(Vec v) {
    return _mm512_castsi512_ps(_mm512_and_si512(
        _mm512_add_epi32(_mm512_castps_si512(v), _mm512_set1_epi32(0x8000)),
        _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
  }
  template <ValueType T>
  static Vec round(Vec v) {
    if constexpr (T == ValueType::BFloat16) {
      const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      return _mm512_mask_mov_ps(round_finite<T>(v), nan,
                                _mm512_castsi512_ps(_mm512_set1_epi32(0x7FC00000)));
    } else {
      return round_finite<T>(v);
    }
  }

  template <ValueType T>
  static Vec load_values(const void* base, int64_t index) {
    if constexpr (T == ValueType::Float32) {
      return _mm512_loadu_ps(static_cast<const float*>(base) + index);
    } else {
      const __m256i halves = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(base) + index));
      if constexpr (T == ValueType::BFloat16) {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
      } else {
        return _mm512_cvtph_ps(halves);
      }
    }
  }

  // The vector as 8-float pieces, in element order (the sum kernel's Vectorized<float>).
  template <class F>
  static void for_each_piece(Vec v, F&& f) {
    f(_mm512_castps512_ps256(v));
    f(_mm512_extractf32x8_ps(v, 1));
  }

  // The bits of 16-bit T values held as floats (non-negative: sign bit clear), and back.
  template <ValueType T>
  static __m512i bits16(Vec v) {
    if constexpr (T == ValueType::BFloat16) {
      return _mm512_srli_epi32(_mm512_castps_si512(v), 16);
    } else {
      return _mm512_cvtepu16_epi32(
          _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
  }
  template <ValueType T>
  static Vec from_bits16(int32_t first) {
    const __m512i bits =
        _mm512_add_epi32(_mm512_set1_epi32(first),
                         _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    if constexpr (T == ValueType::BFloat16) {
      return _mm512_castsi512_ps(_mm512_slli_epi32(bits, 16));
    } else {
      return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(bits));
    }
  }
  static void store_bits(int32_t* p, __m512i bits) {
    _mm512_storeu_si512(reinterpret_cast<void*>(p), bits);
  }

  // levels[0] lane (k & 15) for each lane's integral value k (clamped, so in the table's
  // range): converted half to even, as torch.round rounds.
  static Vec look_up_level(const Vec* levels, Vec v) {
    const __m512i k = _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_permutexvar_ps(k, levels[0]);
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
    const __m512i exponent =
        _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7F800000));
    const Vec magic = _mm512_castsi512_ps(_mm512_add_epi32(
        _mm512_max_epi32(exponent, _mm512_set1_epi32(lowest_exponent_field)),
        _mm512_set1_epi32(magic_offset)));
    return sub(add(v, magic), magic);
  }

  // compressed-tensors' round_to_power_2 (LC §6.4) of v >= 0, on v's fp32 pattern: add half of
  // FP4's mantissa step, keep sign and exponent. For bf16 and fp32 values this is the same
  // operation on their own pattern (both have 8 exponent bits; bf16's low 16 bits are zero).
  static Vec round_to_power_2(Vec v) {
    const __m512i bits = _mm512_add_epi32(_mm512_castps_si512(v), _mm512_set1_epi32(1 << 21));
    return _mm512_castsi512_ps(
        _mm512_and_si512(bits, _mm512_set1_epi32(static_cast<int>(0xFF800000u))));
  }
  // The MX scale 2^(e8m0 - 127) of powers of two p2 >= 0 (0 and inf included), in fp32:
  // e8m0 = clamp(floor(log2(p2)) + 127 - offset, 0, 255), so 0 for p2 = 0 (log2 gives -inf)
  // and 255 for inf. 2^-127 is an fp32 subnormal, 2^128 inf.
  static Vec mx_scale_of_power_2(Vec p2, int32_t offset) {
    const __m512i exponent = _mm512_srli_epi32(_mm512_castps_si512(p2), 23);
    __m512i e8m0 = _mm512_max_epi32(_mm512_sub_epi32(exponent, _mm512_set1_epi32(offset)),
                                    _mm512_setzero_si512());
    e8m0 = _mm512_mask_mov_epi32(
        e8m0, _mm512_cmpeq_epi32_mask(exponent, _mm512_set1_epi32(255)), exponent);
    const __m512i scale = _mm512_mask_mov_epi32(
        _mm512_slli_epi32(e8m0, 23), _mm512_cmpeq_epi32_mask(e8m0, _mm512_setzero_si512()),
        _mm512_set1_epi32(0x00400000));
    return _mm512_castsi512_ps(scale);
  }
};

}  // namespace

SearchGroupsFn search_groups_avx512(const GridSearchProblem& problem) {
  return select_search<Avx512>(problem);
}

RangeSumFn range_sum_avx512(const GridSearchProblem& problem) {
  return select_range_sum<Avx512>(problem);
}

ValueTermsFn value_terms_avx512(const GridSearchProblem& problem) {
  return select_value_terms<Avx512>(problem);
}

float values_sum_avx512(ValueType type, const float* values, int64_t count) {
  return values_sum_for(type, values, count);
}

void fill_pow_table_avx512(const GridSearchProblem& problem, float* table) {
  fill_pow_table_for<Avx512>(problem, table);
}

void error_memo_windows_avx512(const GridSearchProblem& problem, const ErrorMemo& memo,
                               int64_t begin, int64_t end, int32_t* keys) {
  error_memo_windows<Avx512>(problem, memo, begin, end, keys);
}

void fill_error_memo_avx512(const GridSearchProblem& problem, const PowTable& pow_table,
                            const ErrorMemoLayout& layout, int64_t begin, int64_t end) {
  if (!problem.quant.symmetric) {
    fill_error_memo<Avx512, Grid::IntAsymmetricLevels>(problem, pow_table, layout, begin, end);
  } else if (has_few_levels(problem)) {
    fill_error_memo<Avx512, Grid::IntSymmetricLevels>(problem, pow_table, layout, begin, end);
  } else {
    fill_error_memo<Avx512, Grid::IntSymmetric>(problem, pow_table, layout, begin, end);
  }
}

bool group_ranges_avx512(const GridSearchProblem& problem, int64_t begin, int64_t end,
                         void* min_out, void* max_out) {
  return group_ranges_for<Avx512>(problem, begin, end, min_out, max_out);
}

}  // namespace llmc::kernels
