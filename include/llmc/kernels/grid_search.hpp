// Fused shrink-factor grid search (DESIGN §7): every candidate of a scale group is evaluated in
// one pass over the group, nothing materialised; same contract and result as grid_search_mse.
//
//   auto [mn, mx] = llmc::fused_grid_search(flat, args, llmc::GridSearchOptions::imatrix(), imp);
#pragma once

#include <ATen/ATen.h>

#include <llmc/observers/grid_search.hpp>
#include <llmc/quant/quantization_args.hpp>
#include <optional>
#include <string>
#include <utility>

namespace llmc {

// Why the fused kernel cannot serve these inputs, or nullopt when it can. With `require_exact`
// (what GridSearchBackend::Auto asks) it also refuses inputs for which equality with the
// reference is not established: the CUDA kernel (it adds in ATen's CUDA summation order, as
// kernels/aten_cuda_sum_order.hpp models and probes it, but has not yet been checked against
// the reference on a GPU, nor does a single scale group on CUDA), and observations (N > 1) with
// more than one qparam. On CPU a single scale group (TENSOR strategy, or N > 1 observations
// with one qparam) replays the thread split of ATen's one-output reduction.
std::optional<std::string> fused_grid_search_unsupported(
    const at::Tensor& observed, const QuantizationArgs& args, const GridSearchOptions& options,
    const std::optional<at::Tensor>& importance, bool require_exact = true);

// grid_search_mse's contract: `observed` is flatten_for_calibration's (N, *qparam_shape, G), with
// N = 1 unless there is one qparam (CPU only); returns (best_min, best_max) of shape
// qparam_shape in observed's dtype. CPU: identical to the
// reference (candidate ranges, qparams and errors rounded as ATen rounds them, ATen's summation
// order, global patience replayed); CUDA: built to be the same wherever the device probe
// confirms ATen's summation order (see above). Throws llmc::Error for inputs it does not support.
std::pair<at::Tensor, at::Tensor> fused_grid_search(
    const at::Tensor& observed, const QuantizationArgs& args, const GridSearchOptions& options,
    const std::optional<at::Tensor>& importance = std::nullopt);

}  // namespace llmc
