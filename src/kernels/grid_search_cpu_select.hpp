// The kernel instantiation for a problem: layout (one group at a time, one group per lane for
// small groups, or a single group's element ranges), weight dtype, error dtype and quantization
// grid. Included once by each instruction set's file, with its SIMD policy `S`.
#pragma once

#include "grid_search_cpu_group.hpp"
#include "grid_search_cpu_lanes.hpp"
#include "grid_search_cpu_tensor.hpp"

namespace llmc::kernels {
namespace {

// Int grids of at most kMaxLevels levels have level tables (the group layout looks them up).
inline bool has_few_levels(const GridSearchProblem& problem) {
  return problem.quant.q_max - problem.quant.q_min < kMaxLevels;
}

// The kernels selected below: K::pick<S, V, E, Plain, Levels> is the instantiation for the
// grid, given as its plain form and its level-table form (the same grid for FP8 and FP4).
struct SearchGroupsKernel {
  using Fn = SearchGroupsFn;
  template <class S, ValueType V, ValueType E, Grid Plain, Grid Levels>
  static Fn pick(const GridSearchProblem& problem) {
    if (uses_lanes_layout(problem)) return &search_group_lanes<S, V, E, Plain>;
    return has_few_levels(problem) ? &search_groups<S, V, E, Levels> : &search_groups<S, V, E, Plain>;
  }
};

struct RangeSumKernel {
  using Fn = RangeSumFn;
  template <class S, ValueType V, ValueType E, Grid Plain, Grid Levels>
  static Fn pick(const GridSearchProblem& problem) {
    return has_few_levels(problem) ? &range_sum<S, V, E, Levels> : &range_sum<S, V, E, Plain>;
  }
};

struct ValueTermsKernel {
  using Fn = ValueTermsFn;
  template <class S, ValueType V, ValueType E, Grid Plain, Grid Levels>
  static Fn pick(const GridSearchProblem& problem) {
    return has_few_levels(problem) ? &value_terms<S, V, E, Levels> : &value_terms<S, V, E, Plain>;
  }
};

template <class S, class K, ValueType V, ValueType E>
typename K::Fn select_grid(const GridSearchProblem& problem) {
  const QuantSpec& quant = problem.quant;
  switch (quant.rounding) {
    case Rounding::Fp8E4M3:
      return K::template pick<S, V, E, Grid::Fp8, Grid::Fp8>(problem);
    case Rounding::Fp4E2M1:
      return K::template pick<S, V, E, Grid::Fp4, Grid::Fp4>(problem);
    case Rounding::Int:
      break;
  }
  return quant.symmetric
             ? K::template pick<S, V, E, Grid::IntSymmetric, Grid::IntSymmetricLevels>(problem)
             : K::template pick<S, V, E, Grid::IntAsymmetric, Grid::IntAsymmetricLevels>(problem);
}

template <class S, class K, ValueType V>
typename K::Fn select_error_type(const GridSearchProblem& problem) {
  if (problem.error_in_fp32) return select_grid<S, K, V, ValueType::Float32>(problem);
  return select_grid<S, K, V, V>(problem);
}

// The instantiation of kernel K for the problem's weight dtype, error dtype and grid.
template <class S, class K>
typename K::Fn select_kernel(const GridSearchProblem& problem) {
  switch (problem.value_type) {
    case ValueType::Float16:
      return select_error_type<S, K, ValueType::Float16>(problem);
    case ValueType::BFloat16:
      return select_error_type<S, K, ValueType::BFloat16>(problem);
    case ValueType::Float32:
      break;
  }
  return select_grid<S, K, ValueType::Float32, ValueType::Float32>(problem);
}

template <class S>
SearchGroupsFn select_search(const GridSearchProblem& problem) {
  return select_kernel<S, SearchGroupsKernel>(problem);
}

template <class S>
RangeSumFn select_range_sum(const GridSearchProblem& problem) {
  return select_kernel<S, RangeSumKernel>(problem);
}

template <class S>
ValueTermsFn select_value_terms(const GridSearchProblem& problem) {
  return select_kernel<S, ValueTermsKernel>(problem);
}

template <class S>
void fill_pow_table_for(const GridSearchProblem& problem, float* table) {
  if (problem.value_type == ValueType::BFloat16) {
    fill_pow_table<S, ValueType::BFloat16>(problem, table);
  } else {
    fill_pow_table<S, ValueType::Float16>(problem, table);
  }
}

}  // namespace
}  // namespace llmc::kernels
