// Shrink-factor grid search for the (min, max) range that minimises quantization error — the
// LibTorch reference shared by the MSE observers (LC §5.3, mse_quant.py::_grid_search_mse) and
// the imatrix observer (LC §5.4, imatrix.py::_grid_search). Later fused CPU/CUDA kernels are
// checked against this implementation.
//
//   auto [mn, mx] = llmc::grid_search_mse(flat, args, llmc::GridSearchOptions::mse());
#pragma once

#include <ATen/ATen.h>
#include <torch/arg.h>

#include <cstdint>
#include <llmc/quant/quantization_args.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

namespace llmc {

// Which implementation runs the search. Auto takes the fused kernel where it is proven to give
// the reference's result (see kernels/grid_search.hpp) and the reference elsewhere.
enum class GridSearchBackend { Auto, Reference, Fused };

std::string to_string(GridSearchBackend backend);

struct GridSearchOptions {
  // Candidates are p = 1 - i/grid for i = 0 .. S-1 with S = int(maxshrink * grid).
  TORCH_ARG(double, maxshrink) = 0.20;
  TORCH_ARG(double, grid) = 100.0;
  // Error = sum |fake_quant(x) - x|^norm over each qparam's group.
  TORCH_ARG(double, norm) = 2.4;
  // Stop after `patience` consecutive candidates without a strict improvement anywhere.
  TORCH_ARG(int64_t, patience) = 5;
  // The search starts from expand × the observed min/max (NVFP4 range expansion).
  TORCH_ARG(double, expand) = 1.0;
  // imatrix loop: S = max(1, int(maxshrink * grid)) and i runs to S inclusive (S+1 candidates).
  TORCH_ARG(bool, include_endpoint) = false;
  // imatrix: patience 0 never stops early (mse: patience 0 stops at the first miss).
  TORCH_ARG(bool, patience_zero_means_never) = false;
  // imatrix: fake-quantized values, error and best error in fp32 (mse: all in x's dtype).
  TORCH_ARG(bool, error_in_fp32) = false;
  // Reference tensor loop, fused kernel, or Auto: the fused kernel wherever it is proven to
  // choose the reference's range (CPU with ATen's AVX2/AVX512 kernels, weights; see
  // kernels/grid_search.hpp), the reference elsewhere.
  TORCH_ARG(GridSearchBackend, backend) = GridSearchBackend::Auto;

 public:
  // memoryless_mse / mse eager semantics with their defaults (0.2, 100, 2.4, 5).
  static GridSearchOptions mse() { return GridSearchOptions(); }
  // imatrix_mse semantics with its defaults (0.95, 20, 3.0, 5).
  static GridSearchOptions imatrix();

  // Number of candidates the loop may evaluate (before early stopping).
  int64_t num_candidates() const;
  // p of candidate i, computed in double like Python's `1 - i / grid`.
  double shrink_factor(int64_t i) const { return 1.0 - static_cast<double>(i) / grid_; }

  bool operator==(const GridSearchOptions& other) const;
};

std::ostream& operator<<(std::ostream& os, const GridSearchOptions& options);

// `observed` is flatten_for_calibration's (N, *qparam_shape, G). Returns (best_min, best_max)
// of shape qparam_shape in observed's dtype, exactly as upstream's eager code: candidate ranges
// in x's dtype, calculate_qparams with args (TENSOR_GROUP: scale_dtype dropped, no global
// scale), fake_quantize with the strategy set to TOKEN, strict "<" improvement per qparam.
// `importance`, when given, multiplies the element-wise error (broadcast against `observed`).
// options.backend() picks the implementation (Auto: llmc::fused_grid_search where supported).
std::pair<at::Tensor, at::Tensor> grid_search_mse(
    const at::Tensor& observed, const QuantizationArgs& args, const GridSearchOptions& options,
    const std::optional<at::Tensor>& importance = std::nullopt);

}  // namespace llmc
