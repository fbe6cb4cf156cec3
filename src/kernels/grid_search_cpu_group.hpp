// One scale group, every candidate, on a SIMD policy `S` (Avx512 / Avx2, defined by the two
// files that include this one). To choose exactly the reference's candidate (strict '<' on
// errors that often tie after bf16 rounding), each error is computed bit for bit as ATen
// computes it: every element op rounded to its dtype, Sleef's powf where ATen's vectorised pow
// used it (std::pow on its scalar tails), and the sum in the order of ATen's cascade_sum
// (SumKernel.cpp, whose AVX2 kernel also serves AVX512).
//
// Everything here has internal linkage: each instruction set's file gets its own copy, so no
// AVX-512 code can be shared with the AVX2 build through a weak symbol. Compiled with
// -ffp-contract=off: every product and sum rounds separately, as in ATen.
#pragma once

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include <cstdint>

#include "grid_search_cpu_isa.hpp"
#include "grid_search_cpu_memo_read.hpp"
#include "grid_search_problem.hpp"

// The per-element helpers below run once per vector per candidate: they must be inlined.
#define LLMC_KERNEL_INLINE inline __attribute__((always_inline))

namespace llmc::kernels {
namespace {

// How clamped values reach the quantized grid; the symmetric int grid skips the zero point.
// The *Levels int grids (at most 16 levels: int4 and narrower, group layout only) look each
// level's dequantized value up in a per-candidate table of one or two vectors (a permute)
// instead of recomputing it per element (a multiply and one or two roundings to the weight
// dtype): the table holds exactly those values, computed by the same ops.
enum class Grid { IntSymmetric, IntAsymmetric, IntSymmetricLevels, IntAsymmetricLevels, Fp8, Fp4 };

constexpr bool is_asymmetric(Grid g) {
  return g == Grid::IntAsymmetric || g == Grid::IntAsymmetricLevels;
}
constexpr bool is_level_grid(Grid g) {
  return g == Grid::IntSymmetricLevels || g == Grid::IntAsymmetricLevels;
}
// The most levels a level table holds.
constexpr int64_t kMaxLevels = 16;

inline float float_from_bits(uint32_t bits) {
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

inline uint32_t bits_of(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bits;
}

// Scalar storage access; a value stored is already representable in T.
template <ValueType T>
float load_scalar(const void* base, int64_t index) {
  if constexpr (T == ValueType::Float32) {
    return static_cast<const float*>(base)[index];
  } else if constexpr (T == ValueType::BFloat16) {
    return float_from_bits(uint32_t{static_cast<const uint16_t*>(base)[index]} << 16);
  } else {
    return _cvtsh_ss(static_cast<const uint16_t*>(base)[index]);
  }
}

template <ValueType T>
void store_scalar(void* base, int64_t index, float value) {
  if constexpr (T == ValueType::Float32) {
    static_cast<float*>(base)[index] = value;
  } else if constexpr (T == ValueType::BFloat16) {
    static_cast<uint16_t*>(base)[index] = static_cast<uint16_t>(bits_of(value) >> 16);
  } else {
    static_cast<uint16_t*>(base)[index] =
        static_cast<uint16_t>(_cvtss_sh(value, _MM_FROUND_TO_NEAREST_INT));
  }
}

// A candidate's scale of inf, recorded for the dispatcher (GridSearchProblem::infinite_scale),
// which then discards the kernel's ranges and runs the reference: the kernels need not finish
// the search where they meet one.
inline void note_infinite_scale(const GridSearchProblem& problem) {
  if (problem.infinite_scale != nullptr) {
    __atomic_store_n(problem.infinite_scale, 1, __ATOMIC_RELAXED);
  }
}

// Whether two candidates' qparams are equal bit for bit (so -0 and +0 zero points differ): then
// so are their errors, and the later one cannot beat the best (strict '<').
inline bool same_qparams(float scale, float zero_point, float other_scale, float other_zero_point) {
  return memcmp(&scale, &other_scale, sizeof(float)) == 0 &&
         memcmp(&zero_point, &other_zero_point, sizeof(float)) == 0;
}

template <class S, ValueType T>
LLMC_KERNEL_INLINE float round_scalar(float value) {
  return S::first(S::template round<T>(S::set1(value)));
}

struct GroupQParams {
  float scale;
  float zero_point;
};

// compressed-tensors' MX scale of amaxes >= 0 held in V (LC §6.2 steps 2, 4, 5 and §6.4):
// round_to_power_2 on V's pattern, e8m0 = floor(log2) + 127 - offset clamped to [0, 255] (every
// step exact in V: powers of two, integers below 256), then 2^(e8m0 - 127) cast to V. fp16
// rounds to a power of two differently from fp32 at its subnormals (below 2^-14 the pattern's
// exponent field is 0: 2^-14 from 0.75 * 2^-14, else 0) and at its top (2^16 is inf).
template <class S, ValueType V>
LLMC_KERNEL_INLINE typename S::Vec mx_scale(typename S::Vec amax, int32_t offset) {
  using Vec = typename S::Vec;
  Vec power = S::round_to_power_2(amax);
  if constexpr (V == ValueType::Float16) {
    const Vec smallest_normal = S::set1(0x1p-14f);
    const Vec subnormal_power =
        S::select_less(amax, S::set1(0.75f * 0x1p-14f), S::set1(0.0f), smallest_normal);
    power = S::select_less(amax, smallest_normal, subnormal_power, power);
    power = S::select_less(power, S::set1(0x1p16f), power, S::set1(__builtin_inff()));
  }
  return S::template round<V>(S::mx_scale_of_power_2(power, offset));
}

// calculate_qparams of one candidate range per lane (no global scale; quant.scale_format, §6.2):
// the lanes layout's groups, or one group's candidates. Each step rounds to V as the reference
// does; an all-zero asymmetric range gives 0/0 = NaN, which the int8 cast turns into 0.
template <class S, ValueType V>
LLMC_KERNEL_INLINE void lanes_qparams(typename S::Vec shrunk_min, typename S::Vec shrunk_max,
                                      const QuantSpec& quant, typename S::Vec& scale,
                                      typename S::Vec& zero_point) {
  using Vec = typename S::Vec;
  const Vec zero = S::set1(0.0f);
  const Vec min = S::min(shrunk_min, zero);
  const Vec max = S::max(shrunk_max, zero);
  if (quant.symmetric) {
    const Vec amax = S::max(S::abs(min), S::abs(max));
    scale = quant.scale_format == ScaleFormat::Mx
                ? mx_scale<S, V>(amax, quant.mx_exponent_offset)
                : S::template round<V>(S::div(amax, S::set1(quant.half_range)));
    zero_point = zero;
  } else {
    scale = S::template round<V>(
        S::div(S::template round<V>(S::sub(max, min)), S::set1(quant.range)));
    const Vec shifted = S::template round<V>(
        S::sub(S::set1(quant.q_min), S::template round<V>(S::div(min, scale))));
    const Vec clamped = S::clamp(shifted, S::set1(quant.q_min), S::set1(quant.q_max));
    zero_point = S::replace_nan(S::round_int(clamped), zero);
  }
  // scale_dtype FP8: round_to_quantized_type_dtype clamps to 448 and casts; the value is exact
  // in every weight dtype, so the cast back changes nothing. (Asymmetric zero points were
  // computed from the scale before this rounding, as upstream computes them.)
  if (quant.scale_format == ScaleFormat::Fp8E4M3) {
    scale = S::round_fp8_e4m3(S::min(scale, S::set1(448.0f)));
  }
  scale = S::replace_zero(scale, S::set1(quant.scale_eps));
}

// Candidate i's range bound: Python's `min_val * p` keeps the weight dtype, with p as float.
template <class S, ValueType V>
LLMC_KERNEL_INLINE float shrink(float bound, double grid, int64_t candidate) {
  const auto p = static_cast<float>(1.0 - static_cast<double>(candidate) / grid);
  return round_scalar<S, V>(bound * p);
}

// base^norm as ATen's pow on E computes it where it vectorised, for pow.kind == K known at
// compile time (element_pow below tests it at run time). `base` is finite and non-negative.
// (A 16-bit E with a general exponent looks the pow up instead: search_groups.)
template <class S, ValueType E, PowKind K>
LLMC_KERNEL_INLINE typename S::Vec element_pow_of(typename S::Vec base, const PowSpec& pow) {
  if constexpr (K == PowKind::Identity) {
    return base;  // already an E value
  } else if constexpr (K == PowKind::Sqrt) {
    return S::template round_finite<E>(S::sqrt(base));
  } else if constexpr (K == PowKind::Square) {
    return S::template round_finite<E>(S::mul(base, base));
  } else if constexpr (K == PowKind::Cube) {
    return S::template round_finite<E>(
        S::mul(S::template round_finite<E>(S::mul(base, base)), base));
  } else {
    return S::template round_finite<E>(S::pow(base, S::set1(pow.exponent)));
  }
}

// element_pow_of for the run-time pow.kind.
template <class S, ValueType E>
LLMC_KERNEL_INLINE typename S::Vec element_pow(typename S::Vec base, const PowSpec& pow) {
  switch (pow.kind) {
    case PowKind::Identity: return element_pow_of<S, E, PowKind::Identity>(base, pow);
    case PowKind::Sqrt: return element_pow_of<S, E, PowKind::Sqrt>(base, pow);
    case PowKind::Square: return element_pow_of<S, E, PowKind::Square>(base, pow);
    case PowKind::Cube: return element_pow_of<S, E, PowKind::Cube>(base, pow);
    case PowKind::General: break;
  }
  return element_pow_of<S, E, PowKind::General>(base, pow);
}

// One candidate's qparams as vectors (lane by lane, or the same in every lane), and for the
// level grids its table: parts[p] lane l holds the dequantized value of the level k with
// k ≡ p * kWidth + l (mod 16), q_min <= k < q_min + 16 (the index the permute reads from the
// integer's low bits).
template <class S>
struct CandidateVecs {
  typename S::Vec scale;
  typename S::Vec zero_point;
  // 1 / scale, for quantization_error's kExactScale form, and its reciprocal form where
  // `reciprocal` is set (candidate_vecs; the lanes layout, whose lanes hold different
  // candidates, leaves it unset and divides).
  typename S::Vec inverse_scale;
  typename S::Vec levels[kMaxLevels / S::kWidth];
  bool reciprocal = false;
};

// Whether quantization_error's reciprocal form exists for these types: bf16 weights on the int
// grids. It applies to a candidate whose scale is a bf16 value in [2^-126, 2^125]
// (reciprocal_applies), so that the scale and its reciprocal are normal fp32 values. Why the
// errors are the same as the division's (tests/test_grid_search_reciprocal.cpp compares the two
// forms for every finite bf16 value over scales of every bf16 mantissa):
// - x = mx 2^a and s = ms 2^b with integers mx, ms < 256 (bf16 significands). Where q = x / s
//   is a normal fp32 value it is not a bf16 rounding midpoint (an odd multiple of 2^(e-8) in
//   the binade [2^e, 2^(e+1))), nor within 2^15 / 255 (> 128) fp32 units of one: q / 2^(e-8) =
//   mx 2^j / ms, and where that is not an integer it is at least 1 / ms from every integer;
//   where it is, q has at most 8 significant bits (mx / ms is then a dyadic mx' / 2^t with
//   mx' = mx / odd(ms) < 256), so it is a bf16 value, not a midpoint.
// - fl(x / s) is within half an fp32 unit of q, and fl(x * fl(1 / s)) within two (two roundings
//   of 2^-24 relative each). So both round to the same bf16 value as q itself, and neither is a
//   midpoint: adding half a bf16 unit and truncating (round_bf16_off_midpoint, no tie case) gives
//   round-to-nearest-even.
// - Where |q| < 2^-126, both forms give a bf16 value of magnitude at most 2^-125, which every
//   later step treats alike: the integer rounding takes it to a zero (whose sign the level
//   table and `k - zero_point`, then `- x` with x != 0, do not keep), and added to a zero point
//   k != 0 it gives k exactly in fp32. Where q overflows or lies beyond the grid, both forms lie
//   beyond it too (or are inf) and clamp to the same end.
constexpr bool has_reciprocal_form(ValueType v, Grid g) {
  return v == ValueType::BFloat16 && g != Grid::Fp8 && g != Grid::Fp4;
}
inline bool reciprocal_applies(float scale) {
  return scale >= 0x1p-126f && scale <= 0x1p125f && (bits_of(scale) & 0xFFFFu) == 0;
}

// The levels k of a level table's entries, as floats in table order (see CandidateVecs).
struct LevelIntegers {
  float k[kMaxLevels];
  explicit LevelIntegers(const QuantSpec& quant) {
    const auto q_min = static_cast<int64_t>(quant.q_min);
    for (int64_t j = 0; j < kMaxLevels; ++j) {
      k[j] = static_cast<float>(q_min + ((j - q_min) & (kMaxLevels - 1)));
    }
  }
};

// The dequantized value of integers k under (scale, zero_point), lane by lane, for the level
// grids: (k - zero_point) then * scale, each rounded to V as fake_quantize_value does.
template <class S, ValueType V, Grid G>
LLMC_KERNEL_INLINE typename S::Vec dequantized_level(typename S::Vec k, typename S::Vec scale,
                                                     typename S::Vec zero_point) {
  if constexpr (is_asymmetric(G)) k = S::template round_finite<V>(S::sub(k, zero_point));
  return S::template round_finite<V>(S::mul(k, scale));
}

// A group's candidate with the same qparams in every lane; for level grids, its table.
template <class S, ValueType V, Grid G>
LLMC_KERNEL_INLINE CandidateVecs<S> candidate_vecs(GroupQParams qparams,
                                                   const LevelIntegers& integers) {
  CandidateVecs<S> c;
  c.scale = S::set1(qparams.scale);
  c.zero_point = S::set1(qparams.zero_point);
  if constexpr (has_reciprocal_form(V, G)) {
    c.reciprocal = reciprocal_applies(qparams.scale);
    c.inverse_scale = S::set1(1.0f / qparams.scale);
  }
  if constexpr (is_level_grid(G)) {
    for (int64_t p = 0; p < kMaxLevels / S::kWidth; ++p) {
      c.levels[p] = dequantized_level<S, V, G>(S::load(integers.k + p * S::kWidth), c.scale,
                                               c.zero_point);
    }
  }
  return c;
}

// Candidates [first, last)'s qparams for a group whose range is [min0, max0], a vector of
// candidates at a time (shrink and lanes_qparams lane by lane); `p` holds each candidate's
// shrink factor, and all three arrays room for whole vectors past `last`.
template <class S, ValueType V>
LLMC_KERNEL_INLINE void candidates_qparams(float min0, float max0, const float* p,
                                           int64_t first, int64_t last, const QuantSpec& quant,
                                           float* scale_out, float* zero_point_out) {
  for (int64_t i = first; i < last; i += S::kWidth) {
    const typename S::Vec factor = S::load(p + i);
    typename S::Vec scale;
    typename S::Vec zero_point;
    lanes_qparams<S, V>(S::template round<V>(S::mul(S::set1(min0), factor)),
                        S::template round<V>(S::mul(S::set1(max0), factor)), quant, scale,
                        zero_point);
    S::store(scale_out + i, scale);
    S::store(zero_point_out + i, zero_point);
  }
}

// The dequantized value of clamped quantized values v (q_min <= v <= q_max, not yet integral):
// fake_quantize_value's steps after the clamp. Each step is monotone non-decreasing in v (the
// scale is positive), so every dequantized value of a candidate lies between
// dequantize_clamped(q_min) and dequantize_clamped(q_max).
template <class S, ValueType V, Grid G, bool kExactScale = false>
LLMC_KERNEL_INLINE typename S::Vec dequantize_clamped(typename S::Vec v,
                                                      const CandidateVecs<S>& candidate) {
  if constexpr (is_level_grid(G)) {
    // The level's integer (half to even, as torch.round) picks its dequantized value.
    v = S::look_up_level(candidate.levels, v);
  } else {
    if constexpr (G == Grid::Fp8) {
      v = S::round_fp8_e4m3(v);
    } else if constexpr (G == Grid::Fp4) {
      v = S::round_fp4_e2m1(v);
    } else {
      v = S::round_int(v);
    }
    if constexpr (is_asymmetric(G)) {
      v = S::template round_finite<V>(S::sub(v, candidate.zero_point));
    }
    v = S::mul(v, candidate.scale);
    if constexpr (!kExactScale) v = S::template round_finite<V>(v);
  }
  return v;
}

// Whether quantization_error's kExactScale form exists for these types: MX's float grids on
// bf16 or fp32 weights. (fp16 weights keep the roundings: with fp16's narrower range the proof
// below would hold only for the scales a group's range gives, not for every 2^k.)
constexpr bool has_exact_scale_form(ValueType v, Grid g) {
  return (v == ValueType::BFloat16 || v == ValueType::Float32) && (g == Grid::Fp8 || g == Grid::Fp4);
}

// |fake_quantize(x) - x| rounded to E, lane by lane (each lane may have its own qparams).
// Every value is finite here (the range is, and the scale is at least eps), so the roundings
// need no NaN case.
//
// kExactScale (has_exact_scale_form(V, G) only): every lane's scale is a power of two 2^k,
// -127 <= k <= 127 (MX scales), and candidate.inverse_scale is 2^-k. Then the same errors come
// from a multiply for the division and without the two roundings to V (for fp32 V they are no
// ops anyway); tests/test_grid_search_scale_dtype.cpp compares the two forms for every finite
// bf16 value and every such scale. Why:
// - x / 2^k and x * 2^-k are the same real number (2^-k is exact), so both ops round it alike.
//   Where it is a normal fp32 value it is exact, with x's significand, and so a V value. Else it
//   is inf, which the clamp takes to the grid's largest value, rounded or not; or its magnitude
//   is below 2^-126, which the grid takes to a zero, rounded or not (FP8 rounds below 2^-10 to
//   zero, FP4 up to 0.25). That zero's sign may differ, but x != 0 there, and (+-0) * 2^k - x
//   is -x either way.
// - The dequantized value v * 2^k: v is on the grid, with 4 significant bits for FP8 and 2 for
//   FP4, so where the product is normal it is exact in fp32 and fits bf16's 8 bits (or is inf
//   either way). Below 2^-126 it must also be a multiple of 2^-133, bf16's subnormal step. Take
//   v != 0 there: v is a multiple of the grid's step at q = x * 2^-k (a power of two: FP4 2^-1
//   or more, FP8 2^-9 or more) within half a step of q, so q <= 1.5 v, and x < 1.5 * 2^-126
//   (the clamp's bound times 2^k is normal). So x is a multiple of 2^-133, and q of
//   g = 2^(-133-k). If the step is at least g, v * 2^k is a multiple of 2^-133; if not, q is
//   on the grid, so v = q and v * 2^k = x.
template <class S, ValueType V, ValueType E, Grid G, bool kExactScale = false>
LLMC_KERNEL_INLINE typename S::Vec quantization_error(typename S::Vec x,
                                                      const CandidateVecs<S>& candidate,
                                                      typename S::Vec low,
                                                      typename S::Vec high) {
  using Vec = typename S::Vec;
  static_assert(!kExactScale || has_exact_scale_form(V, G), "no exact form for these types");
  Vec v;
  if constexpr (kExactScale) {
    v = S::mul(x, candidate.inverse_scale);
  } else if constexpr (has_reciprocal_form(V, G)) {
    // The same quotient from a multiply (see has_reciprocal_form): a division costs more, and
    // its rounding needs the tie case.
    v = candidate.reciprocal ? S::round_bf16_off_midpoint(S::mul(x, candidate.inverse_scale))
                             : S::template round_finite<V>(S::div(x, candidate.scale));
  } else {
    v = S::template round_finite<V>(S::div(x, candidate.scale));
  }
  if constexpr (is_asymmetric(G)) {
    v = S::template round_finite<V>(S::add(v, candidate.zero_point));
  }
  v = dequantize_clamped<S, V, G, kExactScale>(S::clamp(v, low, high), candidate);
  // mse: (q - x) in the weight dtype; imatrix: both cast to fp32 first.
  return S::abs(S::template round_finite<E>(S::sub(v, x)));
}

// quantization_error of one group's candidate, then ^norm when `with_pow`, for the whole padded
// group (padding is 0), handed to sink(k, vector at element k).
template <class S, ValueType V, ValueType E, Grid G, class Sink>
LLMC_KERNEL_INLINE void quantization_errors(const float* values, int64_t padded,
                                            const CandidateVecs<S>& candidate,
                                            const QuantSpec& quant, bool with_pow,
                                            const PowSpec& pow, Sink&& sink) {
  using Vec = typename S::Vec;
  const Vec low = S::set1(quant.q_min);
  const Vec high = S::set1(quant.q_max);
  for (int64_t k = 0; k < padded; k += S::kWidth) {
    Vec error = quantization_error<S, V, E, G>(S::load(values + k), candidate, low, high);
    if (with_pow) error = element_pow<S, E>(error, pow);
    sink(k, error);
  }
}

// ---- the clamp bound: candidates that cannot win, skipped before any error is computed ----
//
// A value x above a candidate's largest dequantized value hi = dequantize_clamped(q_max) has
// error |round_E(q - x)| >= |round_E(hi - x)| for whatever q <= hi it quantizes to (rounding is
// monotone and symmetric), and likewise below lo = dequantize_clamped(q_min). The pows ATen
// specialises (identity, sqrt, square, cube), each rounded, are monotone too, and so is the
// product with a non-negative importance. So those terms, computed by the kernel's own ops with
// hi / lo in place of q, are each at most the kernel's term for the same value, and the other
// values' terms are >= 0. The group's sum in ATen's order only grows when terms grow (rounded
// addition is monotone), so the sum of the bound terms in ATen's order is at most the
// candidate's error. Summed in another order (here, one after the other in each candidate's
// lane) it differs from that by less than 2(n - 1) units of 2^-24 relatively for its n = 8
// terms, which the margin 1 - 2^-17 covers, as in StreamingSum::certainly_reaches.
//
// Once a bound reaches the best error, the candidate's own error would too, and the strict '<'
// could not pick it: it is skipped with its improvement bit left 0, as the reference would
// leave it. On random normal W4 g128 imatrix_mse data this skips about 70% of the candidates:
// past the best, the clamped extremes alone outweigh it. (The partial-sum checkpoints of
// abandon_losing then cost more than they save, and are not made.)
// A few of a group's largest and smallest values with their importance (1 when unweighted):
// each lane's extremes, folded to kClampBoundValues per side (the group's extremes among them).
constexpr int64_t kClampBoundValues = 4;
struct GroupExtremes {
  float high[kClampBoundValues];
  float high_importance[kClampBoundValues];
  float low[kClampBoundValues];
  float low_importance[kClampBoundValues];
};

template <class S>
LLMC_KERNEL_INLINE GroupExtremes group_extremes(const float* values, const float* importance,
                                                int64_t size) {
  using Vec = typename S::Vec;
  const Vec one = S::set1(1.0f);
  Vec high = S::load(values);
  Vec high_importance = importance ? S::load(importance) : one;
  Vec low = high;
  Vec low_importance = high_importance;
  for (int64_t k = S::kWidth; k < size; k += S::kWidth) {
    const Vec v = S::load(values + k);
    const Vec w = importance ? S::load(importance + k) : one;
    high_importance = S::select_less(high, v, w, high_importance);
    high = S::select_less(high, v, v, high);
    low_importance = S::select_less(v, low, w, low_importance);
    low = S::select_less(v, low, v, low);
  }
  float lanes[4][S::kWidth];
  S::store(lanes[0], high);
  S::store(lanes[1], high_importance);
  S::store(lanes[2], low);
  S::store(lanes[3], low_importance);
  // The fold, branch-free (which lane wins is data-dependent): lane j of 4 keeps the largest of
  // lanes j, j + 4, ... (the smallest for the low side).
  static_assert(kClampBoundValues == 4, "the fold works on 4-float vectors");
  __m128 h = _mm_loadu_ps(lanes[0]);
  __m128 hw = _mm_loadu_ps(lanes[1]);
  __m128 l = _mm_loadu_ps(lanes[2]);
  __m128 lw = _mm_loadu_ps(lanes[3]);
  for (int64_t lane = 4; lane < S::kWidth; lane += 4) {
    const __m128 vh = _mm_loadu_ps(lanes[0] + lane);
    const __m128 higher = _mm_cmpgt_ps(vh, h);
    h = _mm_blendv_ps(h, vh, higher);
    hw = _mm_blendv_ps(hw, _mm_loadu_ps(lanes[1] + lane), higher);
    const __m128 vl = _mm_loadu_ps(lanes[2] + lane);
    const __m128 lower = _mm_cmplt_ps(vl, l);
    l = _mm_blendv_ps(l, vl, lower);
    lw = _mm_blendv_ps(lw, _mm_loadu_ps(lanes[3] + lane), lower);
  }
  GroupExtremes e;
  _mm_storeu_ps(e.high, h);
  _mm_storeu_ps(e.high_importance, hw);
  _mm_storeu_ps(e.low, l);
  _mm_storeu_ps(e.low_importance, lw);
  return e;
}

// The dequantized value of the integer k (q_min or q_max) under each lane's candidate qparams,
// by the ops of candidate_vecs' level table or of dequantize_clamped.
template <class S, ValueType V, Grid G>
LLMC_KERNEL_INLINE typename S::Vec dequantized_integer(float k, typename S::Vec scale,
                                                       typename S::Vec zero_point) {
  const typename S::Vec v = S::set1(k);
  if constexpr (is_level_grid(G)) {
    return dequantized_level<S, V, G>(v, scale, zero_point);
  } else {
    CandidateVecs<S> lanes;
    lanes.scale = scale;
    lanes.zero_point = zero_point;
    return dequantize_clamped<S, V, G>(v, lanes);
  }
}

// Candidates [first, last)'s clamp bounds into bound[], a vector of candidates at a time (one
// candidate per lane: no horizontal sums), as search_groups compares errors: the fp32 total,
// rounded to E when unweighted; -1 where the bound's total is not normal (the relative
// argument needs care there). Candidate i reaches the best error when bound[i] >= it.
template <class S, ValueType V, ValueType E, Grid G>
LLMC_KERNEL_INLINE void clamp_bounds(const GroupExtremes& extremes, const float* scale,
                                     const float* zero_point, int64_t first, int64_t last,
                                     const QuantSpec& quant, const PowSpec& pow, bool weighted,
                                     float* bound) {
  using Vec = typename S::Vec;
  const Vec zero = S::set1(0.0f);
  for (int64_t i = first; i < last; i += S::kWidth) {
    const Vec s = S::load(scale + i);
    const Vec z = S::load(zero_point + i);
    const Vec hi = dequantized_integer<S, V, G>(quant.q_max, s, z);
    const Vec lo = dequantized_integer<S, V, G>(quant.q_min, s, z);
    Vec total = zero;
    for (int64_t j = 0; j < kClampBoundValues; ++j) {
      // x > hi: the error's bound; elsewhere 0 (the pows of 0 are 0 for every norm > 0).
      const Vec x_high = S::set1(extremes.high[j]);
      const Vec x_low = S::set1(extremes.low[j]);
      Vec above = element_pow<S, E>(
          S::select_less(hi, x_high, S::abs(S::template round_finite<E>(S::sub(hi, x_high))), zero),
          pow);
      Vec below = element_pow<S, E>(
          S::select_less(x_low, lo, S::abs(S::template round_finite<E>(S::sub(lo, x_low))), zero),
          pow);
      if (weighted) {
        above = S::mul(above, S::set1(extremes.high_importance[j]));
        below = S::mul(below, S::set1(extremes.low_importance[j]));
      }
      total = S::add(S::add(total, above), below);
    }
    constexpr float kMargin = 1.0f - 0x1p-17f;
    Vec b = S::mul(total, S::set1(kMargin));
    if (!weighted) b = S::template round_finite<E>(b);
    const Vec normal = S::select_less(total, S::set1(0x1p-100f), zero,
                                      S::select_less(S::set1(0x1p+120f), total, zero, S::set1(1.0f)));
    S::store(bound + i, S::select_less(normal, S::set1(0.5f), S::set1(-1.0f), b));
  }
}

// In place, the pow of quantization_errors(with_pow = false).
template <class S, ValueType E>
void apply_pow(float* errors, int64_t padded, const PowSpec& pow) {
  for (int64_t k = 0; k < padded; k += S::kWidth) {
    S::store(errors + k, element_pow<S, E>(S::load(errors + k), pow));
  }
}

// The non-negative 16-bit E value with bits `bits` (the index of the pow table).
template <ValueType E>
float from_bits16_scalar(int32_t bits) {
  if constexpr (E == ValueType::BFloat16) {
    return float_from_bits(static_cast<uint32_t>(bits) << 16);
  } else {
    return _cvtsh_ss(static_cast<uint16_t>(bits));
  }
}

// table[b] = Sleef's pow of the non-negative 16-bit E value with bits b, rounded to E.
template <class S, ValueType E>
void fill_pow_table(const GridSearchProblem& problem, float* table) {
  const typename S::Vec exponent = S::set1(problem.pow.exponent);
  for (int64_t b = 0; b < kPowTableSize; b += S::kWidth) {
    const auto base = S::template from_bits16<E>(static_cast<int32_t>(b));
    S::store(table + b, S::template round<E>(S::pow(base, exponent)));
  }
}

// pows[j] = table[bits[j]]: scalar loads, which on Zen 4 beat a 16-lane gather several times.
inline void look_up_pows(const float* table, const int32_t* bits, float* pows, int64_t count) {
#pragma GCC unroll 8
  for (int64_t j = 0; j < count; ++j) pows[j] = table[bits[j]];
}

// out[j] = table[bits[j]]: the 16-bit pow of each error's 16-bit pattern, the pattern held in
// 32 bits; `count` is even; high_table[b] is table[b] << 16. Scalar loads (a 16-lane gather is
// several times slower on Zen 4). The lookups are most of the search's instructions, so each
// pair of elements is one 32-bit store of both pows, the second or-ed in straight from
// high_table (a load folded into the or): 5 instructions and 5 memory accesses per pair, where
// one element at a time took 6 and 6, and one 64-bit load of both indices 6 and 4 (it needs a
// shift and a zero extension), measured 3-6% slower. (Two 16-bit indices per 32-bit load,
// earlier, cost more in unpacking than the loads they saved.) Unsigned indices need no sign
// extension; the empty asm keeps them in general registers, so that the compiler does not
// make the loop a gather.
LLMC_KERNEL_INLINE void look_up_pow_bits(const uint16_t* table, const uint32_t* high_table,
                                         const int32_t* bits, uint16_t* out, int64_t count) {
#pragma GCC unroll 8
  for (int64_t j = 0; j < count; j += 2) {
    uint64_t low = static_cast<uint32_t>(bits[j]);
    uint64_t high = static_cast<uint32_t>(bits[j + 1]);
    asm("" : "+r"(low), "+r"(high));
    const uint32_t both = uint32_t{table[low]} | high_table[high];
    memcpy(out + j, &both, sizeof both);
  }
}

// ATen's scalar pow tails (problem.scalar_pow_ranges: sorted and disjoint, and only for a
// general exponent) met by consecutive element ranges [begin, end) taken in increasing order:
// the ranges before the current one are passed for good.
// (Only Sleef's pow differs from std::pow; ATen's other specialisations round identically.)
class ScalarTails {
 public:
  explicit ScalarTails(const GridSearchProblem& problem)
      : ranges_(problem.scalar_pow_ranges),
        count_(problem.pow.kind == PowKind::General ? problem.scalar_pow_range_count : 0) {}

  // Moves to elements [begin, end), at or after the previous range.
  void seek(int64_t begin, int64_t end) {
    while (first_ < count_ && ranges_[first_].end <= begin) ++first_;
    last_ = first_;
    while (last_ < count_ && ranges_[last_].begin < end) ++last_;
    begin_ = begin;
    end_ = end;
  }
  bool any() const { return last_ > first_; }
  // visit(element - begin) for each tail element of the current range, in order.
  template <class Visit>
  void for_each(const Visit& visit) const {
    for (int64_t t = first_; t < last_; ++t) {
      const int64_t b = ranges_[t].begin > begin_ ? ranges_[t].begin : begin_;
      const int64_t e = ranges_[t].end < end_ ? ranges_[t].end : end_;
      for (int64_t k = b - begin_; k < e - begin_; ++k) visit(k);
    }
  }

 private:
  const ScalarRange* ranges_;
  int64_t count_;
  int64_t first_ = 0;
  int64_t last_ = 0;
  int64_t begin_ = 0;
  int64_t end_ = 0;
};

// ATen's scalar pow loop (a std::pow per element) on the elements its vectorised loop left.
template <class S, ValueType E>
float scalar_pow(float base, const PowSpec& pow) {
  if constexpr (E == ValueType::Float32) {
    return static_cast<float>(::pow(static_cast<double>(base), pow.exponent_double));
  } else {
    return round_scalar<S, E>(::powf(base, pow.exponent));
  }
}

// ---- ATen's cascade_sum for one contiguous row -------------------------------------------------

constexpr int kSumLanes = 8;  // Vectorized<float> of the AVX2 sum kernel

struct Lanes {
  __m256 v = _mm256_setzero_ps();
  Lanes& operator+=(const Lanes& other) {
    v = _mm256_add_ps(v, other.v);
    return *this;
  }
};

inline int64_t ceil_log2(int64_t x) {
  if (x <= 2) return 1;
  int64_t bits = 0;
  for (uint64_t value = static_cast<uint64_t>(x) - 1; value != 0; value >>= 1) ++bits;
  return bits;
}

// SumKernel.cpp row_sum / multi_row_sum: 4 interleaved accumulators, each a cascade of 4 levels
// of chunk sums, so that only values of similar magnitude meet.
template <typename Acc, typename Load>
LLMC_KERNEL_INLINE Acc row_sum(const Load& load, int64_t size) {
  constexpr int64_t kIlp = 4;
  constexpr int64_t kLevels = 4;
  const int64_t rows = size / kIlp;
  const int64_t level_power = ceil_log2(rows) / kLevels > 4 ? ceil_log2(rows) / kLevels : 4;
  const int64_t level_step = int64_t{1} << level_power;
  const int64_t level_mask = level_step - 1;
  Acc acc[kLevels][kIlp] = {};
  int64_t i = 0;
  while (i + level_step <= rows) {
    for (int64_t j = 0; j < level_step; ++j, ++i) {
      for (int64_t k = 0; k < kIlp; ++k) acc[0][k] += load(i * kIlp + k);
    }
    for (int64_t j = 1; j < kLevels; ++j) {
      for (int64_t k = 0; k < kIlp; ++k) {
        acc[j][k] += acc[j - 1][k];
        acc[j - 1][k] = Acc{};
      }
      if ((i & (level_mask << (j * level_power))) != 0) break;
    }
  }
  for (; i < rows; ++i) {
    for (int64_t k = 0; k < kIlp; ++k) acc[0][k] += load(i * kIlp + k);
  }
  for (int64_t j = 1; j < kLevels; ++j) {
    for (int64_t k = 0; k < kIlp; ++k) acc[0][k] += acc[j][k];
  }
  for (int64_t e = rows * kIlp; e < size; ++e) acc[0][0] += load(e);
  for (int64_t k = 1; k < kIlp; ++k) acc[0][0] += acc[0][k];
  return acc[0][0];
}

// cascade_sum of errors[0, size) (times importance, when given: an fp32 tensor) over a
// contiguous inner dimension: vectorized_inner_sum when the row holds a whole Vectorized<T>
// (16-bit types add the two fp32 halves of each load first), else scalar_inner_sum. Returns
// the fp32 accumulator; without importance the caller rounds it to E.
template <ValueType T, bool Weighted>
LLMC_KERNEL_INLINE float aten_inner_sum(const float* errors, const float* importance,
                                        int64_t size) {
  const auto element = [errors, importance](int64_t k) {
    if constexpr (Weighted) {
      return errors[k] * importance[k];
    } else {
      (void)importance;
      return errors[k];
    }
  };
  const auto lanes_at = [errors, importance](int64_t k) {
    const __m256 loaded = _mm256_loadu_ps(errors + k);
    if constexpr (Weighted) {
      return _mm256_mul_ps(loaded, _mm256_loadu_ps(importance + k));
    } else {
      (void)importance;
      return loaded;
    }
  };
  constexpr int64_t vec_numel = T == ValueType::Float32 ? kSumLanes : 2 * kSumLanes;
  if (size < vec_numel) return row_sum<float>(element, size);
  const int64_t vec_count = size / vec_numel;
  const Lanes lanes = row_sum<Lanes>(
      [&lanes_at](int64_t index) {
        const int64_t base = index * vec_numel;
        if constexpr (T == ValueType::Float32) {
          return Lanes{lanes_at(base)};
        } else {
          return Lanes{_mm256_add_ps(lanes_at(base), lanes_at(base + kSumLanes))};
        }
      },
      vec_count);
  float total = 0.0f;
  for (int64_t k = vec_count * vec_numel; k < size; ++k) total += element(k);
  float lane_values[kSumLanes];
  _mm256_storeu_ps(lane_values, lanes.v);
  for (int l = 0; l < kSumLanes; ++l) total += lane_values[l];
  return total;
}

// How row_sum ends once every load went to one of four accumulators (acc[0][k] in load order
// k mod 4): the accumulators in order, then their lanes one by one.
// Split in two: the accumulators added lane by lane (accumulator_lanes), then the lanes one by
// one (lanes_total), so that a search can keep a candidate's lanes and add them up later.
LLMC_KERNEL_INLINE __m256 accumulator_lanes(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  return _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), a2), a3);
}
LLMC_KERNEL_INLINE float lanes_total(__m256 lanes) {
  float lane_values[kSumLanes];
  _mm256_storeu_ps(lane_values, lanes);
  float total = 0.0f;
  for (int l = 0; l < kSumLanes; ++l) total += lane_values[l];
  return total;
}
LLMC_KERNEL_INLINE float accumulators_total(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  return lanes_total(accumulator_lanes(a0, a1, a2, a3));
}

// aten_inner_sum built while the errors are produced, for rows where it reduces to four plain
// accumulators: whole loads only (size % vec_numel == 0) and fewer than 16 rows of 4 loads, so
// the cascade never flushes (row_sum with rows < level_step). Load j goes to accumulator j % 4,
// loads past the last whole row to accumulator 0; the four registers rotate instead of being
// indexed, and are back in place after every 4 loads.
template <ValueType T>
class StreamingSum {
 public:
  static constexpr int64_t kVecNumel = T == ValueType::Float32 ? kSumLanes : 2 * kSumLanes;
  // Every 4 loads the four registers are back in place, so total() there is exactly the total
  // the sum would end with if every remaining value were 0 (x + 0 == x). Rounded addition is
  // monotone in each operand, so with values >= 0 that is a lower bound of the final total.
  static constexpr int64_t kCheckpointElements = 4 * kVecNumel;
  static bool applies(int64_t size) { return streams_group_sum(size, kVecNumel); }
  explicit StreamingSum(int64_t size) : regular_(size / kVecNumel / 4 * 4) {}

  // The next 8 consecutive error values (times importance, when weighted).
  LLMC_KERNEL_INLINE void add_piece(__m256 piece) {
    if constexpr (T == ValueType::Float32) {
      push(piece);
    } else {
      if ((pieces_ & 1) == 0) {
        pending_ = piece;
      } else {
        push(_mm256_add_ps(pending_, piece));
      }
      ++pieces_;
    }
  }

  // Whether total() is certain to be >= bound, at a fraction of its cost (a tree instead of a
  // chain of dependent additions). The tree adds the same 32 non-negative accumulator values in
  // another order; any two orders of n such terms differ by less than 2(n - 1) units of 2^-24,
  // relatively, so tree * (1 - 2^-17) is below total() and reaching the bound proves it. Never
  // claims a total below the bound; may decline when total() only just reaches it (the
  // candidate then goes on, which is always exact). Declines for totals that are not normal,
  // where the relative argument needs care.
  LLMC_KERNEL_INLINE bool certainly_reaches(float bound) const {
    const __m256 lanes = _mm256_add_ps(_mm256_add_ps(a0_, a1_), _mm256_add_ps(a2_, a3_));
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(lanes), _mm256_extractf128_ps(lanes, 1));
    half = _mm_add_ps(half, _mm_movehl_ps(half, half));
    const float tree = _mm_cvtss_f32(_mm_add_ss(half, _mm_movehdup_ps(half)));
    constexpr float kMargin = 1.0f - 0x1p-17f;
    constexpr float kSmallest = 0x1p-100f;
    constexpr float kLargest = 0x1p+120f;
    return tree >= kSmallest && tree <= kLargest && tree * kMargin >= bound;
  }

  LLMC_KERNEL_INLINE float total() const { return accumulators_total(a0_, a1_, a2_, a3_); }
  // total() before its last step: lanes_total(lanes()) == total().
  LLMC_KERNEL_INLINE __m256 lanes() const { return accumulator_lanes(a0_, a1_, a2_, a3_); }

 private:
  LLMC_KERNEL_INLINE void push(__m256 load) {
    if (loads_ < regular_) {
      const __m256 sum = _mm256_add_ps(a0_, load);
      a0_ = a1_;
      a1_ = a2_;
      a2_ = a3_;
      a3_ = sum;
    } else {
      a0_ = _mm256_add_ps(a0_, load);
    }
    ++loads_;
  }

  int64_t regular_;
  int64_t loads_ = 0;
  int64_t pieces_ = 0;
  __m256 pending_ = _mm256_setzero_ps();
  __m256 a0_ = _mm256_setzero_ps();
  __m256 a1_ = _mm256_setzero_ps();
  __m256 a2_ = _mm256_setzero_ps();
  __m256 a3_ = _mm256_setzero_ps();
};

// Streams `size` values into `sum` in steps of Sum::kCheckpointElements: add(begin, end) adds
// values [begin, end), and between steps go_on(sum), whose total() there is a lower bound of the
// final total, may abandon the rest by returning false. Returns whether every value was added.
template <class Sum, class Add, class GoOn>
LLMC_KERNEL_INLINE bool stream_with_checkpoints(Sum& sum, int64_t size, Add&& add, GoOn&& go_on) {
  for (int64_t begin = 0; begin < size; begin += Sum::kCheckpointElements) {
    const int64_t end =
        begin + Sum::kCheckpointElements < size ? begin + Sum::kCheckpointElements : size;
    add(begin, end);
    if (end < size && !go_on(static_cast<const Sum&>(sum))) return false;
  }
  return true;
}

// ---- groups ------------------------------------------------------------------------------------

// The table pipeline's passes (search_groups), unweighted, for a 16-bit E and groups of a
// multiple of 64 values (so the StreamingSum<E> accumulators come back in place every 4 loads
// of 16): candidate i's error patterns are produced (Produce), candidate i - 1's pows looked up
// (LookUp) and candidate i - 2's summed (Sum), in one unrolled loop without per-vector tests of
// which stream runs, and with the four accumulators as fixed registers instead of a rotation.
// The steady passes run all three streams; the fill and drain passes at a round's ends run the
// streams they have, each its own instantiation rather than the generic loop with its per-vector
// tests. Returns candidate i - 2's accumulator lanes (StreamingSum<E>::lanes(); zeros without
// Sum).
constexpr int64_t kTablePassStep = 4 * StreamingSum<ValueType::BFloat16>::kVecNumel;

template <class S, ValueType V, ValueType E, Grid G, bool Produce, bool LookUp, bool Sum>
LLMC_KERNEL_INLINE __m256 table_pass(const float* values, int64_t size,
                                     const CandidateVecs<S>& candidate, typename S::Vec low,
                                     typename S::Vec high, int32_t* produced,
                                     const uint16_t* table, const uint32_t* high_table,
                                     const int32_t* looked_up, uint16_t* pows_out,
                                     const uint16_t* pows_in) {
  static_assert(S::kWidth == 16 || S::kWidth == 8, "a step covers whole vectors");
  constexpr int64_t kLoad = StreamingSum<E>::kVecNumel;  // 16 values: one accumulator add
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  static_assert(4 * kLoad == kTablePassStep);
  for (int64_t k = 0; k < size; k += kTablePassStep) {
#pragma GCC unroll 4
    for (int a = 0; a < 4; ++a) {
      const int64_t base = k + a * kLoad;
#pragma GCC unroll 2
      for (int64_t v = base; v < base + kLoad; v += S::kWidth) {
        if constexpr (Produce) {
          S::store_bits(produced + v, S::template bits16<E>(quantization_error<S, V, E, G>(
                                          S::load(values + v), candidate, low, high)));
        }
        if constexpr (LookUp) {
          look_up_pow_bits(table, high_table, looked_up + v, pows_out + v, S::kWidth);
        }
      }
      if constexpr (Sum) {
        __m256 load = _mm256_setzero_ps();
        bool first_piece = true;
        for (int64_t v = base; v < base + kLoad; v += S::kWidth) {
          S::for_each_piece(S::template load_values<E>(pows_in, v), [&](__m256 piece) {
            load = first_piece ? piece : _mm256_add_ps(load, piece);
            first_piece = false;
          });
        }
        acc[a] = _mm256_add_ps(acc[a], load);
      }
    }
  }
  return accumulator_lanes(acc[0], acc[1], acc[2], acc[3]);
}

// table_pass with the streams chosen at run time.
template <class S, ValueType V, ValueType E, Grid G>
LLMC_KERNEL_INLINE __m256 table_pass(bool produce, bool look_up, bool sum, const float* values,
                                     int64_t size, const CandidateVecs<S>& candidate,
                                     typename S::Vec low, typename S::Vec high,
                                     int32_t* produced, const uint16_t* table,
                                     const uint32_t* high_table, const int32_t* looked_up,
                                     uint16_t* pows_out, const uint16_t* pows_in) {
  const auto pass = [&]<bool P, bool L, bool U>() {
    return table_pass<S, V, E, G, P, L, U>(values, size, candidate, low, high, produced, table,
                                           high_table, looked_up, pows_out, pows_in);
  };
  switch ((produce ? 4 : 0) | (look_up ? 2 : 0) | (sum ? 1 : 0)) {
    case 7: return pass.template operator()<true, true, true>();
    case 6: return pass.template operator()<true, true, false>();
    case 5: return pass.template operator()<true, false, true>();
    case 4: return pass.template operator()<true, false, false>();
    case 3: return pass.template operator()<false, true, true>();
    case 2: return pass.template operator()<false, true, false>();
    case 1: return pass.template operator()<false, false, true>();
    default: return _mm256_setzero_ps();
  }
}

// A weighted candidate's whole error as the streamed sum computes it
// (StreamingSum<Float32>: load j of 8 products to accumulator j mod 4, then
// accumulators_total), for groups of a multiple of 32 values whose sum is not checked on the
// way (no partial-sum checkpoints): the four accumulators as fixed registers and no per-load
// bookkeeping. The pows imatrix_mse uses (norm 2 or 3: kPowKnown) are chosen at compile
// time rather than tested on every vector; other norms take element_pow.
constexpr int64_t kWeightedPassStep = 4 * StreamingSum<ValueType::Float32>::kVecNumel;

template <class S, ValueType V, ValueType E, Grid G, bool kPowKnown, PowKind K>
LLMC_KERNEL_INLINE float weighted_error(const float* values, const float* importance,
                                        int64_t size, const CandidateVecs<S>& candidate,
                                        typename S::Vec low, typename S::Vec high,
                                        const PowSpec& pow) {
  static_assert(kWeightedPassStep % S::kWidth == 0, "a step covers whole vectors");
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  for (int64_t k = 0; k < size; k += kWeightedPassStep) {
#pragma GCC unroll 4
    for (int64_t v = 0; v < kWeightedPassStep; v += S::kWidth) {
      const typename S::Vec base =
          quantization_error<S, V, E, G>(S::load(values + k + v), candidate, low, high);
      typename S::Vec error;
      if constexpr (kPowKnown) {
        error = element_pow_of<S, E, K>(base, pow);
      } else {
        error = element_pow<S, E>(base, pow);
      }
      int64_t load = v / StreamingSum<ValueType::Float32>::kVecNumel;
      S::for_each_piece(S::mul(error, S::load(importance + k + v)), [&](__m256 piece) {
        acc[load] = _mm256_add_ps(acc[load], piece);
        ++load;
      });
    }
  }
  return accumulators_total(acc[0], acc[1], acc[2], acc[3]);
}

template <class S, ValueType V, ValueType E, Grid G>
LLMC_KERNEL_INLINE float weighted_error(const float* values, const float* importance,
                                        int64_t size, const CandidateVecs<S>& candidate,
                                        typename S::Vec low, typename S::Vec high,
                                        const PowSpec& pow) {
  switch (pow.kind) {
    case PowKind::Square:
      return weighted_error<S, V, E, G, true, PowKind::Square>(values, importance, size,
                                                              candidate, low, high, pow);
    case PowKind::Cube:
      return weighted_error<S, V, E, G, true, PowKind::Cube>(values, importance, size,
                                                            candidate, low, high, pow);
    default:
      return weighted_error<S, V, E, G, false, PowKind::General>(values, importance, size,
                                                                candidate, low, high, pow);
  }
}

template <class S, ValueType T>
void load_group(const void* observed, int64_t group, int64_t size, int64_t padded, float* out) {
  const int64_t offset = group * size;
  int64_t k = 0;
  for (; k + S::kWidth <= size; k += S::kWidth) {
    S::store(out + k, S::template load_values<T>(observed, offset + k));
  }
  for (; k < size; ++k) out[k] = load_scalar<T>(observed, offset + k);
  for (; k < padded; ++k) out[k] = 0.0f;
}

template <class S, ValueType V, ValueType E, Grid G>
void search_groups(const GridSearchProblem& problem, const PowTable& pow_table,
                   const SearchRound& round, int64_t begin, int64_t end, std::byte* scratch,
                   void* best_min, void* best_max) {
  const int64_t size = problem.group_size;
  const int64_t padded = cpu_padded_size(size);
  const int64_t words = improvement_words(problem.candidates);
  ScratchArena arena(scratch);
  const GroupScratch buffers = GroupScratch::carve(arena, size, problem.candidates);
  float* values = buffers.values;
  float* errors = buffers.errors;
  // The group's importance row: problem.importance's own row when the group needs no padding,
  // else a zero-padded copy.
  const float* importance = buffers.importance;
  float* tail_bases = buffers.tail_bases;
  float* candidate_scale = buffers.candidate_scale;
  float* candidate_zero_point = buffers.candidate_zero_point;
  const LevelIntegers integers(problem.quant);
  // Only Sleef's pow differs from std::pow; the other specialisations round identically.
  // (The tails are tracked in locals here rather than by ScalarTails, as the other kernels do:
  // with the cursor object this function compiled to a 1024x4096 W4 asym memoryless_mse search
  // about 10% slower, 0.0201-0.0203 -> 0.0221-0.0228 s in three alternating runs.)
  const bool general_pow = problem.pow.kind == PowKind::General;
  const ScalarRange* tail_ranges = problem.scalar_pow_ranges;
  const int64_t tail_count = general_pow ? problem.scalar_pow_range_count : 0;
  int64_t first_tail = 0;
  int64_t importance_row = -1;
  // shrink's p, as a float; the padding lanes' qparams go unused.
  for (int64_t i = 0; i < problem.candidates + kCpuPad; ++i) {
    buffers.candidate_p[i] = static_cast<float>(1.0 - static_cast<double>(i) / problem.grid);
  }

  // Where a candidate's scale can be inf (see note_infinite_scale): an MX range from
  // 1.75 * 2^127, an unrounded asymmetric one wider than the dtype's largest value.
  const bool scale_may_overflow =
      problem.quant.scale_format == ScaleFormat::Mx ||
      (problem.quant.scale_format == ScaleFormat::Plain && !problem.quant.symmetric);
  for (int64_t index = begin; index < end; ++index) {
    const int64_t group = round.order != nullptr ? round.order[index] : index;
    // Groups taken out of order are not streamed in by the hardware prefetcher: the group after
    // next is asked for now.
    if (round.order != nullptr && index + 2 < end) {
      const char* ahead = static_cast<const char*>(problem.observed) +
                          round.order[index + 2] * size * static_cast<int64_t>(sizeof(float)) /
                              (V == ValueType::Float32 ? 1 : 2);
      const int64_t bytes = size * (V == ValueType::Float32 ? 4 : 2);
      for (int64_t line = 0; line < bytes; line += 64) _mm_prefetch(ahead + line, _MM_HINT_T0);
    }
    load_group<S, V>(problem.observed, group, size, padded, values);
    if (problem.importance != nullptr && group % problem.importance_rows != importance_row) {
      importance_row = group % problem.importance_rows;
      const float* row = problem.importance + importance_row * size;
      if (padded == size) {
        importance = row;
      } else {
        memcpy(buffers.importance, row, size * sizeof(float));
        for (int64_t k = size; k < padded; ++k) buffers.importance[k] = 0.0f;
      }
    }
    // ATen's scalar pow tails that reach into this group (ranges are sorted and disjoint, and
    // groups mostly come in increasing order, so `first_tail` mostly only moves forward).
    const int64_t group_begin = group * size;
    const int64_t group_end = group_begin + size;
    if (first_tail > 0 && tail_ranges[first_tail - 1].end > group_begin) first_tail = 0;
    while (first_tail < tail_count && tail_ranges[first_tail].end <= group_begin) ++first_tail;
    int64_t last_tail = first_tail;
    while (last_tail < tail_count && tail_ranges[last_tail].begin < group_end) ++last_tail;
    const auto for_each_tail_element = [&](const auto& visit) {
      for (int64_t t = first_tail; t < last_tail; ++t) {
        const int64_t b = tail_ranges[t].begin > group_begin ? tail_ranges[t].begin : group_begin;
        const int64_t e = tail_ranges[t].end < group_end ? tail_ranges[t].end : group_end;
        for (int64_t k = b - group_begin; k < e - group_begin; ++k) visit(k);
      }
    };

    const float min0 = load_scalar<V>(problem.initial_min, group);
    const float max0 = load_scalar<V>(problem.initial_max, group);
    uint64_t* bits = round.improved_bits + group * words;
    // Every candidate's range and qparams first, a vector of candidates at a time (shrink and
    // group_qparams lane by lane): one scalar chain per candidate cost about a fifth of an
    // int4 group's time.
    candidates_qparams<S, V>(min0, max0, buffers.candidate_p, round.first_candidate,
                             round.last_candidate, problem.quant, candidate_scale,
                             candidate_zero_point);
    // The scale shrinks with the range (every step is monotone), so the round's first
    // candidate has its largest.
    if (scale_may_overflow && !(candidate_scale[round.first_candidate] < __builtin_inff())) {
      note_infinite_scale(problem);
      continue;
    }
    float best_error = round.best_error[group];
    int32_t best = round.best[group];
    // strict: ties keep the wider range. Branch-free: which candidate wins is data-dependent.
    // (minss is `error < best_error ? error : best_error`, NaN included; the ternary had
    // compiled to a branch.)
    float* errors_out = problem.candidate_errors == nullptr
                            ? nullptr
                            : problem.candidate_errors + group * problem.candidates;
    // The improvement bits gather in a register and go to memory once per word: or-ed into
    // memory one candidate at a time, each update waited for the previous one's store.
    uint64_t pending_bits = 0;
    int64_t pending_word = -1;
    const auto flush_bits = [&] {
      if (pending_word >= 0) bits[pending_word] |= pending_bits;
      pending_bits = 0;
    };
    const auto consider = [&](int64_t i, float error) {
      if (errors_out != nullptr) errors_out[i] = error;
      const bool better = error < best_error;
      best_error = _mm_cvtss_f32(_mm_min_ss(_mm_set_ss(error), _mm_set_ss(best_error)));
      best = better ? static_cast<int32_t>(i) : best;
      if ((i >> 6) != pending_word) {
        flush_bits();
        pending_word = i >> 6;
      }
      pending_bits |= uint64_t{better} << (i & 63);
    };
    const auto qparams_of = [&](int64_t i) {
      return GroupQParams{candidate_scale[i], candidate_zero_point[i]};
    };
    // Whether candidate i's qparams are candidate i - 1's, bit for bit: then so are its errors,
    // which cannot beat the best (strict '<'), and it is skipped with its improvement bit 0, as
    // it would be. Only rounded scales (FP8, MX) repeat often enough to test for: an FP8 scale
    // keeps 3 mantissa bits, so neighbouring candidates (p 1% apart) mostly share one.
    const bool skip_repeats = problem.quant.scale_format != ScaleFormat::Plain;
    const auto repeats_previous = [&](int64_t i) {
      return skip_repeats && i > round.first_candidate &&
             same_qparams(candidate_scale[i - 1], candidate_zero_point[i - 1], candidate_scale[i],
                          candidate_zero_point[i]);
    };
    const bool has_tails = last_tail > first_tail;
    const bool weighted = problem.importance != nullptr;
    const auto reduce = [&](const float* pows) {
      return weighted ? aten_inner_sum<ValueType::Float32, true>(pows, importance, size)
                      : round_scalar<S, E>(aten_inner_sum<E, false>(pows, nullptr, size));
    };
    if (pow_table.bits != nullptr) {
      // The pow as a table lookup, software-pipelined over candidates. The pass that computes
      // candidate i's errors and stores their 16-bit patterns also looks up candidate i - 1's
      // patterns (stored by the previous pass) with scalar loads and sums candidate i - 2's
      // pows (looked up by the previous pass): three independent streams of work that the core
      // runs side by side, where one after the other the scalar lookups alone took 40% of the
      // time. (A vector gather is several times slower per element on Zen 4.) The buffers of
      // two candidates stay in L1.
      const bool stream_sum = padded == size && (weighted
                                                     ? StreamingSum<ValueType::Float32>::applies(size)
                                                     : StreamingSum<E>::applies(size));
      const typename S::Vec low = S::set1(problem.quant.q_min);
      const typename S::Vec high = S::set1(problem.quant.q_max);
      const int64_t first = round.first_candidate;
      const int64_t last = round.last_candidate;
      // Every pass of a round takes table_pass where it applies. Nothing in a round's passes
      // depends on the errors, so each candidate's sum is kept (its accumulator lanes, or its
      // error) and the errors are compared after the round: the lanes' serial total and the
      // comparison are then off the passes' path.
      const bool fixed_passes = stream_sum && !weighted && size % kTablePassStep == 0;
      float* candidate_lanes = buffers.candidate_lanes;
      // The pipeline runs over the round's candidates that are not repeats: the j-th is
      // candidate_at(j), and its results go to slot j.
      int64_t count = last - first;
      if (skip_repeats) {
        count = 0;
        for (int64_t i = first; i < last; ++i) {
          if (!repeats_previous(i)) buffers.evaluated[count++] = static_cast<int32_t>(i);
        }
      }
      const auto candidate_at = [&](int64_t j) {
        return skip_repeats ? static_cast<int64_t>(buffers.evaluated[j]) : first + j;
      };
      // The errors from the error memo where the search built one and it holds this group's
      // values and candidate scales; ATen's scalar tails need std::pow's terms.
      bool from_memo = false;
      if constexpr (S::kWidth == 16 && V == ValueType::BFloat16 && E == ValueType::BFloat16 &&
                    (G == Grid::IntSymmetric || G == Grid::IntSymmetricLevels ||
                     G == Grid::IntAsymmetricLevels)) {
        if (pow_table.memo != nullptr && fixed_passes && !has_tails && !skip_repeats) {
          from_memo = memo_candidate_errors<S>(*pow_table.memo, values, size,
                                               candidate_scale + first,
                                               candidate_zero_point + first, count,
                                               buffers.candidate_error,
                                               buffers.candidate_sum);
        }
      }
      if (from_memo) {
        for (int64_t j = 0; j < count; ++j) consider(first + j, buffers.candidate_error[j]);
        if (errors_out != nullptr && problem.candidate_sums) {
          for (int64_t j = 0; j < count; ++j) errors_out[first + j] = buffers.candidate_sum[j];
        }
        if (problem.memo_group_rounds != nullptr) {
          __atomic_fetch_add(problem.memo_group_rounds, 1, __ATOMIC_RELAXED);
        }
      }
      for (int64_t i = 0; i < (from_memo ? 0 : count + 2); ++i) {  // pass i: slots i, i-1, i-2
        const bool produce = i < count;
        const bool look_up = i > 0 && i <= count;  // slot i - 1
        const bool sum = i >= 2;                   // slot i - 2
        const bool sum_in_pass = sum && stream_sum;
        int32_t* produced = buffers.patterns[i & 1];
        const int32_t* looked_up = buffers.patterns[(i + 1) & 1];
        uint16_t* pows_out = buffers.pow_bits[(i + 1) & 1];
        const uint16_t* pows_in = buffers.pow_bits[i & 1];
        const CandidateVecs<S> candidate =
            candidate_vecs<S, V, G>(qparams_of(candidate_at(produce ? i : 0)), integers);
        // Candidate i - 1's pows at ATen's scalar tails: std::pow, not the table's Sleef.
        const auto look_up_tails = [&] {
          for_each_tail_element([&](int64_t k) {
            store_scalar<E>(pows_out, k,
                            scalar_pow<S, E>(from_bits16_scalar<E>(looked_up[k]), problem.pow));
          });
        };
        if constexpr (E != ValueType::Float32) {  // (a table is for 16-bit errors only)
          if (fixed_passes) {
            const __m256 lanes = table_pass<S, V, E, G>(
                produce, look_up, sum, values, size, candidate, low, high, produced,
                pow_table.bits, pow_table.high_bits, looked_up, pows_out, pows_in);
            if (sum) _mm256_storeu_ps(candidate_lanes + (i - 2) * kSumLanes, lanes);
            if (look_up) look_up_tails();
            continue;
          }
        }
        StreamingSum<ValueType::Float32> weighted_sum(size);
        StreamingSum<E> plain_sum(size);
        for (int64_t k = 0; k < padded; k += S::kWidth) {
          if (produce) {
            S::store_bits(produced + k, S::template bits16<E>(quantization_error<S, V, E, G>(
                                                          S::load(values + k), candidate, low, high)));
          }
          if (look_up) {
            look_up_pow_bits(pow_table.bits, pow_table.high_bits, looked_up + k, pows_out + k,
                             S::kWidth);
          }
          if (sum_in_pass) {
            const typename S::Vec p = S::template load_values<E>(pows_in, k);
            if (weighted) {
              S::for_each_piece(S::mul(p, S::load(importance + k)),
                                [&](__m256 piece) { weighted_sum.add_piece(piece); });
            } else {
              S::for_each_piece(p, [&](__m256 piece) { plain_sum.add_piece(piece); });
            }
          }
        }
        if (sum) {
          if (stream_sum) {
            _mm256_storeu_ps(candidate_lanes + (i - 2) * kSumLanes,
                             weighted ? weighted_sum.lanes() : plain_sum.lanes());
          } else {
            for (int64_t k = 0; k < padded; k += S::kWidth) {
              S::store(errors + k, S::template load_values<E>(pows_in, k));
            }
            buffers.candidate_error[i - 2] = reduce(errors);
          }
        }
        if (look_up) look_up_tails();
      }
      for (int64_t j = 0; j < (from_memo ? 0 : count); ++j) {
        float error = buffers.candidate_error[j];
        float total = error;
        if (stream_sum) {
          total = lanes_total(_mm256_loadu_ps(candidate_lanes + j * kSumLanes));
          error = weighted ? total : round_scalar<S, E>(total);
        }
        consider(candidate_at(j), error);
        if (errors_out != nullptr && problem.candidate_sums) errors_out[candidate_at(j)] = total;
      }
    } else {
      const bool stream = !has_tails && padded == size &&
                          (weighted ? StreamingSum<ValueType::Float32>::applies(size)
                                    : StreamingSum<E>::applies(size));
      const bool clamp_bound = stream && round.clamp_bound;
      if (clamp_bound) {
        clamp_bounds<S, V, E, G>(group_extremes<S>(values, weighted ? importance : nullptr, size),
                                 candidate_scale, candidate_zero_point, round.first_candidate,
                                 round.last_candidate, problem.quant, problem.pow, weighted,
                                 buffers.candidate_bound);
      }
      for (int64_t i = round.first_candidate; i < round.last_candidate; ++i) {
        if (repeats_previous(i)) continue;
        float error;
        if (stream) {
          if (clamp_bound && buffers.candidate_bound[i] >= best_error) continue;
          const CandidateVecs<S> candidate = candidate_vecs<S, V, G>(qparams_of(i), integers);
          // A candidate whose partial error already reaches the best cannot win (strict '<'):
          // the rest of its group is skipped, and its improvement bit stays 0, as it would.
          // total() < best_error would decide exactly; certainly_reaches is a cheaper test
          // that abandons almost as often and never wrongly. After the clamp bound, few
          // candidates are left that a partial sum would stop.
          const bool check_partials = round.abandon_losing && !clamp_bound;
          const auto go_on = [&](const auto& partial) {
            return !check_partials || !partial.certainly_reaches(best_error);
          };
          if (weighted && !check_partials && size % kWeightedPassStep == 0) {
            error = weighted_error<S, V, E, G>(values, importance, size, candidate,
                                               S::set1(problem.quant.q_min),
                                               S::set1(problem.quant.q_max), problem.pow);
          } else if (weighted) {
            StreamingSum<ValueType::Float32> sum(size);
            const bool whole = stream_with_checkpoints(
                sum, size,
                [&](int64_t begin, int64_t end) {
                  quantization_errors<S, V, E, G>(
                      values + begin, end - begin, candidate, problem.quant, true, problem.pow,
                      [&](int64_t k, typename S::Vec e) {
                        S::for_each_piece(S::mul(e, S::load(importance + begin + k)),
                                          [&](__m256 piece) { sum.add_piece(piece); });
                      });
                },
                go_on);
            if (!whole) continue;
            error = sum.total();
          } else {
            StreamingSum<E> sum(size);
            const bool whole = stream_with_checkpoints(
                sum, size,
                [&](int64_t begin, int64_t end) {
                  quantization_errors<S, V, E, G>(
                      values + begin, end - begin, candidate, problem.quant, true, problem.pow,
                      [&](int64_t, typename S::Vec e) {
                        S::for_each_piece(e, [&](__m256 piece) { sum.add_piece(piece); });
                      });
                },
                go_on);
            if (!whole) continue;
            error = round_scalar<S, E>(sum.total());
          }
        } else {
          // Groups that hold some of ATen's scalar tails keep the bases for std::pow.
          quantization_errors<S, V, E, G>(
              values, padded, candidate_vecs<S, V, G>(qparams_of(i), integers), problem.quant,
              !has_tails, problem.pow,
              [&](int64_t k, typename S::Vec e) { S::store(errors + k, e); });
          if (has_tails) {
            for_each_tail_element([&](int64_t k) { tail_bases[k] = errors[k]; });
            apply_pow<S, E>(errors, padded, problem.pow);
            for_each_tail_element(
                [&](int64_t k) { errors[k] = scalar_pow<S, E>(tail_bases[k], problem.pow); });
          }
          error = reduce(errors);
        }
        consider(i, error);
      }
    }
    flush_bits();
    round.best_error[group] = best_error;
    round.best[group] = best;
    store_scalar<V>(best_min, group, best < 0 ? min0 : shrink<S, V>(min0, problem.grid, best));
    store_scalar<V>(best_max, group, best < 0 ? max0 : shrink<S, V>(max0, problem.grid, best));
  }
}

}  // namespace
}  // namespace llmc::kernels

#undef LLMC_KERNEL_INLINE
