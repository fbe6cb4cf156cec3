// The reference loop's error of every candidate of a single scale group, for tests of the
// single-group CPU search (src/kernels/grid_search_single_group.hpp).
#pragma once

#include <llmc/observers/grid_search.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/qparams.hpp>
#include <llmc/quant/quantization_args.hpp>

#include <ATen/ATen.h>

#include <optional>
#include <vector>

namespace llmc::test {

// The reference loop's error of every candidate (observers/grid_search.cpp, candidate_error):
// the ATen ops, in the error dtype, summed over (0, -1).
inline std::vector<float> single_group_reference_errors(
    const at::Tensor& observed, const QuantizationArgs& args, const GridSearchOptions& options,
    const std::optional<at::Tensor>& importance) {
  const at::Tensor min_val = at::amin(observed, {0, -1}) * options.expand();
  const at::Tensor max_val = at::amax(observed, {0, -1}) * options.expand();
  const c10::ScalarType error_dtype =
      options.error_in_fp32() ? at::kFloat : observed.scalar_type();
  const at::Tensor observed_for_error = observed.to(error_dtype);
  QuantizationArgs token_args = args;
  token_args.strategy(QuantizationStrategy::Token);
  std::vector<float> errors;
  for (int64_t i = 0; i < options.num_candidates(); ++i) {
    const double p = options.shrink_factor(i);
    const auto [scale, zero_point] =
        calculate_qparams(min_val * p, max_val * p, args, std::nullopt);
    const at::Tensor q =
        fake_quantize(observed, scale.unsqueeze(-1), zero_point.unsqueeze(-1), token_args)
            .to(error_dtype);
    at::Tensor terms = (q - observed_for_error).abs().pow(options.norm());
    if (importance) terms = terms * *importance;
    errors.push_back(terms.sum(at::IntArrayRef{0, -1}).to(at::kFloat).item<float>());
  }
  return errors;
}

}  // namespace llmc::test
