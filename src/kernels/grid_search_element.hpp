// Scalar element arithmetic of the grid search, shared by the CUDA kernel and the CPU kernel's
// bookkeeping (private to src/kernels). Every helper rounds exactly where ATen stores an op's
// result in the weight dtype, so a candidate's qparams and fake-quantized values are
// bit-identical to the reference's tensor ops (LC §5.3, §6.2, §6.5).
#pragma once

#include <c10/macros/Macros.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Float8_e4m3fn.h>
#include <c10/util/Half.h>

#include <math.h>

#include <cmath>
#include <cstdint>

#include <llmc/kernels/rounded_ops.hpp>

#include "grid_search_problem.hpp"

namespace llmc::kernels {

// The c10 storage type of a ValueType.
template <ValueType T>
struct StorageOf;
template <>
struct StorageOf<ValueType::Float32> {
  using type = float;
};
template <>
struct StorageOf<ValueType::Float16> {
  using type = c10::Half;
};
template <>
struct StorageOf<ValueType::BFloat16> {
  using type = c10::BFloat16;
};

// Rounds a float result into T, as ATen stores every op on T (round to nearest even).
template <ValueType T>
C10_HOST_DEVICE inline float round_to(float value) {
  if constexpr (T == ValueType::Float32) {
    return value;
  } else if constexpr (T == ValueType::BFloat16) {
    return static_cast<float>(c10::BFloat16(value));
  } else {
    return static_cast<float>(c10::Half(value));
  }
}

C10_HOST_DEVICE inline float clamp_value(float value, float low, float high) {
  return value < low ? low : (value > high ? high : value);
}

// compressed-tensors' cast_to_fp4 torch fallback: buckets on |x| with its tie rules (LC §6.5).
C10_HOST_DEVICE inline float cast_to_fp4(float value) {
  const float magnitude = fabsf(value);
  float rounded = 6.0f;
  if (magnitude <= 0.25f) {
    rounded = 0.0f;
  } else if (magnitude < 0.75f) {
    rounded = 0.5f;
  } else if (magnitude <= 1.25f) {
    rounded = 1.0f;
  } else if (magnitude < 1.75f) {
    rounded = 1.5f;
  } else if (magnitude <= 2.5f) {
    rounded = 2.0f;
  } else if (magnitude < 3.5f) {
    rounded = 3.0f;
  } else if (magnitude <= 5.0f) {
    rounded = 4.0f;
  }
  return value < 0.0f ? -rounded : rounded;
}

C10_HOST_DEVICE inline float round_onto_grid(float clamped, Rounding rounding) {
  switch (rounding) {
    case Rounding::Int:
      return nearbyintf(clamped);  // torch.round: half to even
    case Rounding::Fp8E4M3:
      return static_cast<float>(c10::Float8_e4m3fn(clamped));
    case Rounding::Fp4E2M1:
      return cast_to_fp4(clamped);
  }
  return clamped;
}

struct GroupQParams {
  float scale;
  float zero_point;
};

// calculate_qparams for one group's candidate range, no global scale, no scale_dtype (§6.2;
// the dispatcher keeps scale_dtype searches off CUDA, whose kernel alone calls this).
template <ValueType T>
C10_HOST_DEVICE inline GroupQParams group_qparams(float shrunk_min, float shrunk_max,
                                                  const QuantSpec& quant) {
  const float min = shrunk_min < 0.0f ? shrunk_min : 0.0f;
  const float max = shrunk_max > 0.0f ? shrunk_max : 0.0f;
  GroupQParams result{0.0f, 0.0f};
  if (quant.symmetric) {
    const float amax = fmaxf(fabsf(min), fabsf(max));
    result.scale = round_to<T>(div_rn(amax, quant.half_range));
  } else {
    result.scale = round_to<T>(div_rn(round_to<T>(sub_rn(max, min)), quant.range));
    // 0/0 for an all-zero range gives NaN, which the int8 cast turns into 0.
    const float shifted =
        round_to<T>(sub_rn(quant.q_min, round_to<T>(div_rn(min, result.scale))));
    const bool is_nan = shifted != shifted;
    result.zero_point =
        is_nan ? 0.0f : nearbyintf(clamp_value(shifted, quant.q_min, quant.q_max));
  }
  if (result.scale == 0.0f) result.scale = quant.scale_eps;
  return result;
}

// fake_quantize of one element with per-group (scale, zero point), all in T (§6.5).
template <ValueType T>
C10_HOST_DEVICE inline float fake_quantize_value(float value, GroupQParams qparams,
                                                 const QuantSpec& quant) {
  float scaled = round_to<T>(div_rn(value, qparams.scale));
  scaled = round_to<T>(add_rn(scaled, qparams.zero_point));
  const float rounded =
      round_onto_grid(clamp_value(scaled, quant.q_min, quant.q_max), quant.rounding);
  return round_to<T>(mul_rn(round_to<T>(sub_rn(rounded, qparams.zero_point)), qparams.scale));
}

// Candidate i's range bound: Python's `min_val * p` keeps the weight dtype, with p as float.
template <ValueType T>
C10_HOST_DEVICE inline float shrink(float bound, double grid, int64_t candidate) {
  const auto p = static_cast<float>(1.0 - static_cast<double>(candidate) / grid);
  return round_to<T>(mul_rn(bound, p));
}

}  // namespace llmc::kernels
