// The error memo (ErrorMemo, src/kernels/grid_search_cpu_isa.hpp): bf16 searches on int grids
// read each candidate's error from pows computed once per (value, scale, zero point). Its errors are
// compared with the reference's own, candidate by candidate and bit for bit (comparing only the
// chosen ranges would miss a sum added in another order), through the group layout's test seam
// (src/kernels/grid_search_group_errors.hpp); so are the table pipeline's errors on the same
// weights, where the memo is not built.
#include <llmc/kernels/grid_search.hpp>
#include <llmc/observers/grid_search.hpp>
#include <llmc/observers/helpers.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/qparams.hpp>

#include <ATen/Parallel.h>

#include <string>
#include <vector>

#include "kernels/grid_search_group_errors.hpp"
#include "support/catch.hpp"

using llmc::GridSearchBackend;
using llmc::GridSearchOptions;
using llmc::QuantizationArgs;
using llmc::QuantizationStrategy;
using llmc::kernels::ErrorMemoUse;
using llmc::kernels::group_candidate_errors;

namespace {

// The memo's reads need AVX-512; elsewhere the search never builds one, and a case that needs
// it says it was skipped.
bool skipped_without_avx512() {
  if (at::get_cpu_capability() == "AVX512") return false;
  WARN("SKIPPED: the error memo needs AVX-512 (ATen's CPU capability here is " +
       at::get_cpu_capability() + ")");
  return true;
}

QuantizationArgs symmetric_int(int64_t bits, int64_t group) {
  return QuantizationArgs().num_bits(bits).symmetric(true).group_size(group).validated();
}

// Gaussian rows of scales spread over 2^-8 .. 2^3 (so that groups' candidate scales fall in many
// of the memo's blocks), a few outliers, an all-zero row, a constant row and a row of tiny
// values, in bf16.
at::Tensor spread_weight(int64_t rows, int64_t cols, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor row_scale = at::pow(2.0, at::randint(-8, 4, {rows, 1}).to(at::kFloat));
  at::Tensor weight = at::randn({rows, cols}) * 0.05 * row_scale;
  weight = at::where(at::rand({rows, cols}) < 0.01, weight * 40, weight);
  weight[0].zero_();
  weight[rows / 2].fill_(0.03);
  weight[rows - 1] = at::randn({cols}) * 1e-30;
  return weight.to(at::kBFloat16);
}

// The reference's error of every candidate for every group, groups × candidates as fp32: the
// reference loop's candidate_error (src/observers/grid_search.cpp, LC mse_quant.py::
// _calculate_error) one candidate at a time, without the patience rule.
at::Tensor reference_errors(const at::Tensor& observed, const QuantizationArgs& args,
                            const GridSearchOptions& options) {
  QuantizationArgs token_args = args;
  token_args.strategy(QuantizationStrategy::Token);
  const at::Tensor min_val = at::amin(observed, {0, -1});
  const at::Tensor max_val = at::amax(observed, {0, -1});
  std::vector<at::Tensor> columns;
  for (int64_t i = 0; i < options.num_candidates(); ++i) {
    const double p = options.shrink_factor(i);
    const auto [scale, zero_point] =
        llmc::calculate_qparams(min_val * p, max_val * p, args, std::nullopt);
    const at::Tensor q =
        llmc::fake_quantize(observed, scale.unsqueeze(-1), zero_point.unsqueeze(-1), token_args);
    const at::Tensor error = (q - observed).abs().pow(options.norm()).sum(at::IntArrayRef{0, -1});
    columns.push_back(error.flatten().to(at::kFloat));
  }
  return at::stack(columns, 1).contiguous();
}

// How many of `got`'s errors differ from `expected`'s in their bits.
int64_t errors_differing(const std::vector<float>& got, const at::Tensor& expected) {
  const at::Tensor got_tensor =
      at::from_blob(const_cast<float*>(got.data()), {static_cast<int64_t>(got.size())}, at::kFloat);
  return got_tensor.view(at::kInt).ne(expected.flatten().view(at::kInt)).sum().item<int64_t>();
}

QuantizationArgs asymmetric_int(int64_t bits, int64_t group) {
  return QuantizationArgs().num_bits(bits).symmetric(false).group_size(group).validated();
}

// Which groups read the memo: all, some but not all, or at least one.
enum class MemoGroups { All, Some, Any };

struct MemoCase {
  std::string name;
  QuantizationArgs args;
  GridSearchOptions options;
  MemoGroups groups;
};

std::vector<MemoCase> memo_cases() {
  return {
      {"int4 sym group 128, memoryless_mse", symmetric_int(4, 128), GridSearchOptions::mse(),
       MemoGroups::All},
      {"int8 sym group 128, mse norm 3.5", symmetric_int(8, 128),
       GridSearchOptions::mse().norm(3.5), MemoGroups::All},
      {"int4 sym group 256, 5 candidates", symmetric_int(4, 256),
       GridSearchOptions::mse().maxshrink(0.1).grid(50), MemoGroups::All},
      // p down to 0.69: 32 candidates over about 68 scale patterns, more than a window holds.
      {"int4 sym group 128, 32 candidates", symmetric_int(4, 128),
       GridSearchOptions::mse().maxshrink(0.32), MemoGroups::Some},
      // Zero points: most groups' candidates share one, some two (two windows).
      {"int4 asym group 128, memoryless_mse", asymmetric_int(4, 128), GridSearchOptions::mse(),
       MemoGroups::Any},
      {"int2 asym group 128, mse norm 3.5", asymmetric_int(2, 128),
       GridSearchOptions::mse().norm(3.5), MemoGroups::Any},
  };
}

void check_memo_groups(MemoGroups expected, int64_t memo_groups, int64_t groups) {
  CHECK(memo_groups > 0);
  CHECK(memo_groups <= groups);
  if (expected == MemoGroups::All) CHECK(memo_groups == groups);
  if (expected == MemoGroups::Some) CHECK(memo_groups < groups);
}

}  // namespace

TEST_CASE("fused grid search reads the reference's candidate errors from the error memo") {
  if (skipped_without_avx512()) return;
  for (const MemoCase& c : memo_cases()) {
    for (const uint64_t seed : {1, 2}) {
      INFO(c.name << ", seed " << seed);
      const at::Tensor weight = spread_weight(48, 1024, seed);
      const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", c.args);
      const int64_t groups = observed.numel() / observed.size(-1);
      const at::Tensor expected = reference_errors(observed, c.args, c.options);

      const auto memo =
          group_candidate_errors(observed, c.args, c.options, std::nullopt, ErrorMemoUse::Always);
      check_memo_groups(c.groups, memo.memo_group_rounds, groups);
      CHECK(errors_differing(memo.errors, expected) == 0);

      const auto pipeline =
          group_candidate_errors(observed, c.args, c.options, std::nullopt, ErrorMemoUse::Never);
      CHECK(pipeline.memo_group_rounds == 0);
      CHECK(errors_differing(pipeline.errors, expected) == 0);
    }
  }
}

// Values spread over 24 binades within each group, so that the pows' fp32 sums depend on the
// order of every addition.
at::Tensor binade_spread_weight(int64_t rows, int64_t cols, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor exponent = at::randint(-20, 4, {rows, cols}).to(at::kFloat);
  return (at::randn({rows, cols}) * at::pow(2.0, exponent)).to(at::kBFloat16);
}

TEST_CASE("fused grid search sums the error memo's pows in the table pipeline's order") {
  if (skipped_without_avx512()) return;
  // The fp32 sums before their rounding to bf16, which would hide most changes of order: the
  // table pipeline's order is ATen's (test_grid_search_sums.cpp checks it against at::sum).
  for (const MemoCase& c : memo_cases()) {
    INFO(c.name);
    const at::Tensor weight = binade_spread_weight(32, 1024, 11);
    const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", c.args);
    const auto memo = group_candidate_errors(observed, c.args, c.options, std::nullopt,
                                             ErrorMemoUse::Always, /*sums=*/true);
    const auto pipeline = group_candidate_errors(observed, c.args, c.options, std::nullopt,
                                                 ErrorMemoUse::Never, /*sums=*/true);
    CHECK(memo.memo_group_rounds > 0);
    const at::Tensor expected = at::from_blob(const_cast<float*>(pipeline.errors.data()),
                                              {static_cast<int64_t>(pipeline.errors.size())},
                                              at::kFloat);
    CHECK(errors_differing(memo.errors, expected) == 0);
  }
}

TEST_CASE("fused grid search leaves groups with ATen's scalar pow tails to the table pipeline") {
  if (skipped_without_avx512()) return;
  // 515 x 128 values on 3 threads: ATen's pow splits them into chunks of 21974, 21974 and
  // 21972 values, and each chunk's last 22, 22 and 20 values took std::pow: in groups 171, 343
  // and 514.
  const int previous_threads = at::get_num_threads();
  at::set_num_threads(3);
  const QuantizationArgs args = symmetric_int(4, 128);
  const GridSearchOptions options = GridSearchOptions::mse();
  const at::Tensor weight = spread_weight(515, 128, 5);
  const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
  const auto memo = group_candidate_errors(observed, args, options, std::nullopt,
                                           ErrorMemoUse::Always);
  const at::Tensor expected = reference_errors(observed, args, options);
  at::set_num_threads(previous_threads);
  CHECK(memo.memo_group_rounds == 515 - 3);
  CHECK(errors_differing(memo.errors, expected) == 0);
}

TEST_CASE("fused grid search builds the error memo by itself for a bf16 layer's memoryless_mse") {
  if (skipped_without_avx512()) return;
  // Gaussian, as the benchmark's layers: its groups' scales share few bf16 patterns.
  const QuantizationArgs args = symmetric_int(4, 128);
  at::manual_seed(3);
  const at::Tensor weight = (at::randn({256, 2048}) * 0.02).to(at::kBFloat16);
  const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
  const int64_t groups = observed.numel() / observed.size(-1);
  const auto automatic =
      group_candidate_errors(observed, args, GridSearchOptions::mse(), std::nullopt,
                             ErrorMemoUse::Auto);
  CHECK(automatic.memo_group_rounds == groups);
  // And the search through the public entry point, patience and all, keeps the reference's
  // ranges.
  const auto [ref_min, ref_max] = llmc::grid_search_mse(
      observed, args, GridSearchOptions::mse().backend(GridSearchBackend::Reference));
  const auto [fused_min, fused_max] =
      llmc::fused_grid_search(observed, args, GridSearchOptions::mse());
  CHECK(at::equal(ref_min.view(at::kShort), fused_min.view(at::kShort)));
  CHECK(at::equal(ref_max.view(at::kShort), fused_max.view(at::kShort)));
}
