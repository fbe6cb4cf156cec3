// A test seam into the single-group CPU search (grid_search_cpu.cpp, search_single_group):
// every candidate's error as fused_grid_search computes it, so that tests can compare the
// errors themselves with the reference's, where comparing the chosen ranges would miss a sum
// that is off in its last bits. Private to the library and its tests.
#pragma once

#include <ATen/ATen.h>

#include <llmc/observers/grid_search.hpp>
#include <llmc/quant/quantization_args.hpp>
#include <optional>
#include <vector>

#include "grid_search_problem.hpp"

namespace llmc::kernels {

// The error of each of options.num_candidates() candidates (the patience rule off), as the
// fused search on CPU computes it for `observed` with one qparam (a TENSOR-strategy weight, or
// observations with one qparam), in the error dtype's value held as a float, with its sums
// taken from value counts as `value_counts` asks (grid_search_cpu_value_counts.hpp); when
// `counted_sums` is set, it receives how many chunk sums the counts decided. Throws
// llmc::Error for other inputs, and for what fused_grid_search rejects.
std::vector<float> single_group_candidate_errors(const at::Tensor& observed,
                                                 const QuantizationArgs& args,
                                                 const GridSearchOptions& options,
                                                 const std::optional<at::Tensor>& importance,
                                                 ErrorMemoUse value_counts = ErrorMemoUse::Auto,
                                                 int64_t* counted_sums = nullptr);

}  // namespace llmc::kernels
