// A test seam into the CPU search's group layout (search_groups): every group's error for every
// candidate as the fused search computes it, from the table pipeline or from the error memo
// (ErrorMemo, grid_search_cpu_isa.hpp), so that tests can compare the errors themselves with the
// reference's, where comparing the chosen ranges would miss a sum that is off in its last bits.
// Private to the library and its tests.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <llmc/observers/grid_search.hpp>
#include <llmc/quant/quantization_args.hpp>
#include <optional>
#include <vector>

#include "grid_search_problem.hpp"

namespace llmc::kernels {

struct GroupCandidateErrors {
  // groups × options.num_candidates(): candidate i of group g at g * candidates + i, in the
  // error dtype's value held as a float; NaN for a candidate the search did not evaluate.
  std::vector<float> errors;
  // How many groups the search read from the error memo.
  int64_t memo_group_rounds = 0;
};

// The errors of every candidate (the patience rule off, so one round) of each scale group of
// `observed` (more than one group, of more than 64 values: the group layout), with the error
// memo built as `error_memo` asks; with `sums`, the fp32 sums before their rounding to the error
// dtype instead, where the group's sum is streamed (table_pass or StreamingSum: groups of whole
// loads of ATen's sum). Throws llmc::Error for other inputs, and for what fused_grid_search
// rejects.
GroupCandidateErrors group_candidate_errors(const at::Tensor& observed,
                                            const QuantizationArgs& args,
                                            const GridSearchOptions& options,
                                            const std::optional<at::Tensor>& importance,
                                            ErrorMemoUse error_memo, bool sums = false);

}  // namespace llmc::kernels
