// Plain-data description of one fused grid search and the per-element arithmetic shared by the
// CPU and CUDA kernels (private to src/kernels). Every helper rounds exactly where ATen stores
// an op's result in the weight dtype, so a candidate's qparams and fake-quantized values are
// bit-identical to the reference's tensor ops (LC §5.3, §6.2, §6.5).
#pragma once

#include <c10/macros/Macros.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Float8_e4m3fn.h>
#include <c10/util/Half.h>

#include <math.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace llmc::kernels {

// Floating dtypes the kernels read; also the dtype each intermediate is rounded to.
enum class ValueType : int8_t { Float32, Float16, BFloat16 };
// How clamped values are rounded onto the quantized grid.
enum class Rounding : int8_t { Int, Fp8E4M3, Fp4E2M1 };
// ATen's pow(x, norm) specialisations (PowKernel.cpp): they round differently.
enum class PowKind : int8_t { Sqrt, Square, Cube, General };

struct QuantSpec {
  Rounding rounding = Rounding::Int;
  bool symmetric = true;
  float q_min = -8.0f;
  float q_max = 7.0f;
  float half_range = 7.5f;  // (q_max - q_min) / 2 in the weight dtype (symmetric divisor)
  float range = 15.0f;      // q_max - q_min in the weight dtype (asymmetric divisor)
  float scale_eps = 0.0f;   // replaces a zero scale: finfo(weight dtype).eps
};

// |q - x|^norm of one element, rounded like ATen's pow on the error dtype.
struct PowSpec {
  PowKind kind = PowKind::General;
  float exponent = 2.4f;         // as the error dtype's Scalar conversion rounds it
  double exponent_double = 2.4;  // fp32 scalar tail: std::pow(float, double)
};

// Flat element ranges [begin, end) where ATen's pow ran its scalar tail instead of Sleef.
struct ScalarRange {
  int64_t begin;
  int64_t end;
};

struct GridSearchProblem {
  ValueType value_type = ValueType::Float32;
  int64_t groups = 0;
  int64_t group_size = 0;
  const void* observed = nullptr;     // groups × group_size values of value_type
  const void* initial_min = nullptr;  // per group: amin × expand, value_type
  const void* initial_max = nullptr;
  // nullptr, or rows of group_size fp32 weights; group g uses row g % importance_rows.
  const float* importance = nullptr;
  int64_t importance_rows = 1;
  QuantSpec quant;
  double grid = 100.0;  // candidate i shrinks the range by p = 1 - i / grid
  // Error dtype: fp32 (imatrix) or the weight dtype (mse); with importance the sum is fp32.
  bool error_in_fp32 = false;
  float best_error_init = 0.0f;  // finfo(error dtype).max
  PowSpec pow;
  // CPU only: where the reference's pow used std::pow, and which Sleef width it used.
  std::vector<ScalarRange> scalar_pow_ranges;
  bool sleef_avx512 = true;
};

// ---- element arithmetic -----------------------------------------------------------------------

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

// calculate_qparams for one group's candidate range, no global scale, no scale_dtype (§6.2).
template <ValueType T>
C10_HOST_DEVICE inline GroupQParams group_qparams(float shrunk_min, float shrunk_max,
                                                  const QuantSpec& quant) {
  const float min = shrunk_min < 0.0f ? shrunk_min : 0.0f;
  const float max = shrunk_max > 0.0f ? shrunk_max : 0.0f;
  GroupQParams result{0.0f, 0.0f};
  if (quant.symmetric) {
    const float amax = fmaxf(fabsf(min), fabsf(max));
    result.scale = round_to<T>(amax / quant.half_range);
  } else {
    result.scale = round_to<T>(round_to<T>(max - min) / quant.range);
    // 0/0 for an all-zero range gives NaN, which the int8 cast turns into 0.
    const float shifted = round_to<T>(quant.q_min - round_to<T>(min / result.scale));
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
  float scaled = round_to<T>(value / qparams.scale);
  scaled = round_to<T>(scaled + qparams.zero_point);
  const float rounded =
      round_onto_grid(clamp_value(scaled, quant.q_min, quant.q_max), quant.rounding);
  return round_to<T>(round_to<T>(rounded - qparams.zero_point) * qparams.scale);
}

// Candidate i's range bound: Python's `min_val * p` keeps the weight dtype, with p as float.
template <ValueType T>
C10_HOST_DEVICE inline float shrink(float bound, double grid, int64_t candidate) {
  const auto p = static_cast<float>(1.0 - static_cast<double>(candidate) / grid);
  return round_to<T>(bound * p);
}

}  // namespace llmc::kernels

namespace llmc::kernels {

// Evaluate candidates [0, candidates) for every group (no early stop), write each group's best
// range into best_min / best_max (value_type, one per group) and return, per candidate, whether
// any group strictly improved: the dispatcher replays the global patience rule on it.
std::vector<uint8_t> grid_search_cpu(const GridSearchProblem& problem, int64_t candidates,
                                     void* best_min, void* best_max);
#ifdef LLMC_WITH_CUDA
std::vector<uint8_t> grid_search_cuda(const GridSearchProblem& problem, int64_t candidates,
                                      void* best_min, void* best_max);
#endif

}  // namespace llmc::kernels
