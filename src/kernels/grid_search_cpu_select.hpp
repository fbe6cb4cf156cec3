// The kernel instantiation for a problem: layout (one group at a time, or one group per lane
// for small groups), weight dtype, error dtype and quantization grid. Included once by each
// instruction set's file, with its SIMD policy `S`.
#pragma once

#include "grid_search_cpu_group.hpp"
#include "grid_search_cpu_lanes.hpp"

namespace llmc::kernels {
namespace {

template <class S, ValueType V, ValueType E, Grid G>
SearchGroupsFn select_layout(const GridSearchProblem& problem) {
  return uses_lanes_layout(problem) ? &search_group_lanes<S, V, E, G> : &search_groups<S, V, E, G>;
}

// Int grids: the group layout looks up the levels of grids that have at most kMaxLevels.
template <class S, ValueType V, ValueType E, Grid Plain, Grid Levels>
SearchGroupsFn select_int_layout(const GridSearchProblem& problem) {
  if (uses_lanes_layout(problem)) return &search_group_lanes<S, V, E, Plain>;
  const bool few_levels = problem.quant.q_max - problem.quant.q_min < kMaxLevels;
  return few_levels ? &search_groups<S, V, E, Levels> : &search_groups<S, V, E, Plain>;
}

template <class S, ValueType V, ValueType E>
SearchGroupsFn select_grid(const GridSearchProblem& problem) {
  const QuantSpec& quant = problem.quant;
  switch (quant.rounding) {
    case Rounding::Fp8E4M3:
      return select_layout<S, V, E, Grid::Fp8>(problem);
    case Rounding::Fp4E2M1:
      return select_layout<S, V, E, Grid::Fp4>(problem);
    case Rounding::Int:
      break;
  }
  return quant.symmetric
             ? select_int_layout<S, V, E, Grid::IntSymmetric, Grid::IntSymmetricLevels>(problem)
             : select_int_layout<S, V, E, Grid::IntAsymmetric, Grid::IntAsymmetricLevels>(problem);
}

template <class S, ValueType V>
SearchGroupsFn select_error_type(const GridSearchProblem& problem) {
  if (problem.error_in_fp32) return select_grid<S, V, ValueType::Float32>(problem);
  return select_grid<S, V, V>(problem);
}

template <class S>
void fill_pow_table_for(const GridSearchProblem& problem, float* table) {
  if (problem.value_type == ValueType::BFloat16) {
    fill_pow_table<S, ValueType::BFloat16>(problem, table);
  } else {
    fill_pow_table<S, ValueType::Float16>(problem, table);
  }
}

template <class S>
SearchGroupsFn select_search(const GridSearchProblem& problem) {
  switch (problem.value_type) {
    case ValueType::Float16:
      return select_error_type<S, ValueType::Float16>(problem);
    case ValueType::BFloat16:
      return select_error_type<S, ValueType::BFloat16>(problem);
    case ValueType::Float32:
      break;
  }
  return select_grid<S, ValueType::Float32, ValueType::Float32>(problem);
}

}  // namespace
}  // namespace llmc::kernels
