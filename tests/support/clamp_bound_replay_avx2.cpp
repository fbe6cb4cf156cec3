// Built with -mavx2 -mf16c -ffp-contract=off (tests/CMakeLists.txt), like the AVX2 kernel.
#include "support/clamp_bound_replay.hpp"

#include <stdexcept>
#include <vector>

#include "kernels/grid_search_cpu_avx2.hpp"
#include "kernels/grid_search_cpu_group.hpp"

namespace llmc::test {
namespace {

using kernels::Avx2;
using kernels::Grid;
using kernels::ValueType;

kernels::QuantSpec int_spec(int num_bits, bool symmetric, ValueType weight) {
  kernels::QuantSpec q;
  q.symmetric = symmetric;
  q.q_max = static_cast<float>((1 << (num_bits - 1)) - 1);
  q.q_min = -q.q_max - 1.0f;
  q.range = q.q_max - q.q_min;
  q.half_range = q.range / 2.0f;  // 7.5 and 127.5: exact in every weight dtype
  q.scale_eps = weight == ValueType::Float32   ? 0x1p-23f
                : weight == ValueType::Float16 ? 0x1p-10f
                                               : 0x1p-7f;
  return q;
}

kernels::PowSpec pow_spec(double norm) {
  kernels::PowSpec pow;
  pow.exponent = static_cast<float>(norm);
  pow.exponent_double = norm;
  if (norm == 1.0) {
    pow.kind = kernels::PowKind::Identity;
  } else if (norm == 0.5) {
    pow.kind = kernels::PowKind::Sqrt;
  } else if (norm == 2.0) {
    pow.kind = kernels::PowKind::Square;
  } else if (norm == 3.0) {
    pow.kind = kernels::PowKind::Cube;
  } else {
    throw std::invalid_argument("replay_clamp_bounds: the clamp bound needs norm 0.5, 1, 2 or 3");
  }
  return pow;
}

template <ValueType V, ValueType E, Grid G>
void replay(const ClampBoundCase& c, const float* values, const float* importance, int64_t size,
            int64_t candidates, double grid, float* bounds, float* errors) {
  if (size % Avx2::kWidth != 0) throw std::invalid_argument("replay_clamp_bounds: whole vectors");
  const kernels::QuantSpec quant = int_spec(c.num_bits, c.symmetric, V);
  const kernels::PowSpec pow = pow_spec(c.norm);
  const bool weighted = importance != nullptr;
  const int64_t padded_candidates = (candidates + Avx2::kWidth - 1) / Avx2::kWidth * Avx2::kWidth;
  std::vector<float> scale(static_cast<size_t>(padded_candidates));
  std::vector<float> zero_point(scale.size());
  std::vector<float> bound(scale.size());
  float min0 = values[0];
  float max0 = values[0];
  for (int64_t k = 1; k < size; ++k) {
    min0 = values[k] < min0 ? values[k] : min0;
    max0 = values[k] > max0 ? values[k] : max0;
  }
  std::vector<float> p(scale.size());
  for (int64_t i = 0; i < padded_candidates; ++i) {
    p[i] = static_cast<float>(1.0 - static_cast<double>(i) / grid);
  }
  kernels::candidates_qparams<Avx2, V>(min0, max0, p.data(), 0, candidates, quant, scale.data(),
                                       zero_point.data());
  kernels::clamp_bounds<Avx2, V, E, G>(kernels::group_extremes<Avx2>(values, importance, size),
                                       scale.data(), zero_point.data(), 0, candidates, quant, pow,
                                       weighted, bound.data());
  const kernels::LevelIntegers integers(quant);
  std::vector<float> element_errors(static_cast<size_t>(size));
  for (int64_t i = 0; i < candidates; ++i) {
    const auto candidate = kernels::candidate_vecs<Avx2, V, G>(
        kernels::GroupQParams{scale[i], zero_point[i]}, integers);
    kernels::quantization_errors<Avx2, V, E, G>(
        values, size, candidate, quant, true, pow,
        [&](int64_t k, __m256 e) { Avx2::store(element_errors.data() + k, e); });
    errors[i] = weighted ? kernels::aten_inner_sum<ValueType::Float32, true>(
                               element_errors.data(), importance, size)
                         : kernels::round_scalar<Avx2, E>(kernels::aten_inner_sum<E, false>(
                               element_errors.data(), nullptr, size));
    bounds[i] = bound[i];
  }
}

template <ValueType V, ValueType E>
void replay_grid(const ClampBoundCase& c, const float* values, const float* importance,
                 int64_t size, int64_t candidates, double grid, float* bounds, float* errors) {
  if (c.num_bits <= 4) {
    if (c.symmetric) {
      return replay<V, E, Grid::IntSymmetricLevels>(c, values, importance, size, candidates,
                                                    grid, bounds, errors);
    }
    return replay<V, E, Grid::IntAsymmetricLevels>(c, values, importance, size, candidates, grid,
                                                   bounds, errors);
  }
  if (c.symmetric) {
    return replay<V, E, Grid::IntSymmetric>(c, values, importance, size, candidates, grid,
                                            bounds, errors);
  }
  replay<V, E, Grid::IntAsymmetric>(c, values, importance, size, candidates, grid, bounds,
                                    errors);
}

template <ValueType V>
void replay_weight(const ClampBoundCase& c, const float* values, const float* importance,
                   int64_t size, int64_t candidates, double grid, float* bounds, float* errors) {
  if (c.error_in_fp32 || V == ValueType::Float32) {
    return replay_grid<V, ValueType::Float32>(c, values, importance, size, candidates, grid,
                                              bounds, errors);
  }
  replay_grid<V, V>(c, values, importance, size, candidates, grid, bounds, errors);
}

}  // namespace

void replay_clamp_bounds(const ClampBoundCase& c, const float* values, const float* importance,
                         int64_t size, int64_t candidates, double grid, float* bounds,
                         float* errors) {
  switch (c.weight_dtype) {
    case SumDtype::Float16:
      return replay_weight<ValueType::Float16>(c, values, importance, size, candidates, grid,
                                               bounds, errors);
    case SumDtype::BFloat16:
      return replay_weight<ValueType::BFloat16>(c, values, importance, size, candidates, grid,
                                                bounds, errors);
    case SumDtype::Float32:
      break;
  }
  replay_weight<ValueType::Float32>(c, values, importance, size, candidates, grid, bounds,
                                    errors);
}

}  // namespace llmc::test
