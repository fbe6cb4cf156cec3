// Built with -mavx2 -mf16c -ffp-contract=off (tests/CMakeLists.txt), like the AVX2 kernel.
#include "support/quantization_errors.hpp"

#include <cmath>
#include <stdexcept>

#include "kernels/grid_search_cpu_avx2.hpp"
#include "kernels/grid_search_cpu_group.hpp"

namespace llmc::test {
namespace {

using kernels::Avx2;
using kernels::Grid;
using kernels::ValueType;

// op(vector) of every value, a vector of Avx2::kWidth at a time (the last one zero-padded).
template <class Op>
std::vector<float> map_vectors(const std::vector<float>& values, const Op& op) {
  constexpr int64_t kWidth = Avx2::kWidth;
  std::vector<float> out(values.size());
  for (size_t i = 0; i < values.size(); i += kWidth) {
    float lane[kWidth] = {};
    for (int64_t l = 0; l < kWidth && i + l < values.size(); ++l) lane[l] = values[i + l];
    float result[kWidth];
    Avx2::store(result, op(Avx2::load(lane)));
    for (int64_t l = 0; l < kWidth && i + l < values.size(); ++l) out[i + l] = result[l];
  }
  return out;
}

template <ValueType V, ValueType E, Grid G, bool kExact>
std::vector<float> errors_of(int k, const std::vector<float>& values) {
  const float bound = G == Grid::Fp8 ? 448.0f : 6.0f;
  const Avx2::Vec low = Avx2::set1(-bound);
  const Avx2::Vec high = Avx2::set1(bound);
  kernels::CandidateVecs<Avx2> candidate{};
  candidate.scale = Avx2::set1(std::ldexp(1.0f, k));
  candidate.zero_point = Avx2::set1(0.0f);
  candidate.inverse_scale = Avx2::set1(std::ldexp(1.0f, -k));
  return map_vectors(values, [&](Avx2::Vec x) {
    return kernels::quantization_error<Avx2, V, E, G, kExact>(x, candidate, low, high);
  });
}

template <ValueType V, ValueType E>
std::vector<float> for_grid(KernelFloatGrid grid, bool exact_scale, int k,
                            const std::vector<float>& values) {
  if (grid == KernelFloatGrid::Fp8E4M3) {
    return exact_scale ? errors_of<V, E, Grid::Fp8, true>(k, values)
                       : errors_of<V, E, Grid::Fp8, false>(k, values);
  }
  return exact_scale ? errors_of<V, E, Grid::Fp4, true>(k, values)
                     : errors_of<V, E, Grid::Fp4, false>(k, values);
}

template <ValueType V>
std::vector<float> for_error(KernelDtype error, KernelFloatGrid grid, bool exact_scale, int k,
                             const std::vector<float>& values) {
  return error == KernelDtype::Float32 ? for_grid<V, ValueType::Float32>(grid, exact_scale, k, values)
                                       : for_grid<V, V>(grid, exact_scale, k, values);
}

}  // namespace

std::vector<float> kernel_mx_quantization_errors(KernelDtype weight, KernelDtype error,
                                                 KernelFloatGrid grid, bool exact_scale, int k,
                                                 const std::vector<float>& values) {
  if (k < -127 || k > 127) throw std::invalid_argument("MX scale exponent out of range");
  if (error != KernelDtype::Float32 && error != weight) {
    throw std::invalid_argument("the error dtype is fp32 or the weight dtype");
  }
  switch (weight) {
    case KernelDtype::BFloat16:
      return for_error<ValueType::BFloat16>(error, grid, exact_scale, k, values);
    case KernelDtype::Float32:
      return for_error<ValueType::Float32>(error, grid, exact_scale, k, values);
    case KernelDtype::Float16: break;
  }
  throw std::invalid_argument("the exact-scale form has no fp16 weights");
}

namespace {

template <ValueType E, Grid G>
std::vector<float> int_errors_of(bool reciprocal, float scale, float zero_point,
                                 const std::vector<float>& values) {
  constexpr bool kLevels = kernels::is_level_grid(G);
  kernels::QuantSpec quant;
  quant.q_min = kLevels ? -8.0f : -128.0f;
  quant.q_max = kLevels ? 7.0f : 127.0f;
  kernels::CandidateVecs<Avx2> candidate =
      kernels::candidate_vecs<Avx2, ValueType::BFloat16, G>(
          kernels::GroupQParams{scale, zero_point}, kernels::LevelIntegers(quant));
  if (reciprocal && !candidate.reciprocal) {
    throw std::invalid_argument("the reciprocal form does not apply to this scale");
  }
  candidate.reciprocal = reciprocal;
  const Avx2::Vec low = Avx2::set1(quant.q_min);
  const Avx2::Vec high = Avx2::set1(quant.q_max);
  return map_vectors(values, [&](Avx2::Vec x) {
    return kernels::quantization_error<Avx2, ValueType::BFloat16, E, G>(x, candidate, low, high);
  });
}

template <ValueType E>
std::vector<float> int_errors_for(KernelIntGrid grid, bool symmetric, bool reciprocal,
                                  float scale, float zero_point, const std::vector<float>& values) {
  if (grid == KernelIntGrid::Int4Levels) {
    return symmetric ? int_errors_of<E, Grid::IntSymmetricLevels>(reciprocal, scale, zero_point,
                                                                 values)
                     : int_errors_of<E, Grid::IntAsymmetricLevels>(reciprocal, scale, zero_point,
                                                                  values);
  }
  return symmetric
             ? int_errors_of<E, Grid::IntSymmetric>(reciprocal, scale, zero_point, values)
             : int_errors_of<E, Grid::IntAsymmetric>(reciprocal, scale, zero_point, values);
}

}  // namespace

std::vector<float> kernel_int_quantization_errors(KernelDtype error, KernelIntGrid grid,
                                                  bool symmetric, bool reciprocal, float scale,
                                                  float zero_point,
                                                  const std::vector<float>& values) {
  switch (error) {
    case KernelDtype::BFloat16:
      return int_errors_for<ValueType::BFloat16>(grid, symmetric, reciprocal, scale, zero_point,
                                                 values);
    case KernelDtype::Float32:
      return int_errors_for<ValueType::Float32>(grid, symmetric, reciprocal, scale, zero_point,
                                                values);
    case KernelDtype::Float16: break;
  }
  throw std::invalid_argument("the error dtype is fp32 or the weight dtype (bf16)");
}

std::vector<float> kernel_float_grid_round(KernelFloatGrid grid, const std::vector<float>& values) {
  return map_vectors(values, [grid](Avx2::Vec v) {
    return grid == KernelFloatGrid::Fp8E4M3 ? Avx2::round_fp8_e4m3(v) : Avx2::round_fp4_e2m1(v);
  });
}

}  // namespace llmc::test
