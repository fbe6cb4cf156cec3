// The single-group search's value counts (src/kernels/grid_search_cpu_value_counts.hpp): a chunk's
// error sum from counts of its distinct values, taken only where the bound on ATen's fp32
// cascade_sum leaves its 16-bit rounding decided, and replayed element by element elsewhere.
#include <llmc/kernels/grid_search.hpp>
#include <llmc/observers/grid_search.hpp>
#include <llmc/observers/helpers.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/grid_search_single_group.hpp"
#include "kernels/grid_search_sum_bound.hpp"
#include "support/catch.hpp"
#include "support/oracle.hpp"
#include "support/single_group_reference.hpp"
#include "support/sum_replay.hpp"
#include "support/thread_count.hpp"

using llmc::GridSearchOptions;
using llmc::QuantizationArgs;
using llmc::QuantizationStrategy;
using llmc::QuantizationType;
using llmc::test::ThreadCount;
using llmc::kernels::ErrorMemoUse;
using llmc::kernels::ValueType;

namespace {

QuantizationArgs tensor_args(QuantizationArgs args) {
  return args.strategy(QuantizationStrategy::Tensor).validated();
}

}  // namespace

TEST_CASE("fused kernels' value-count depth bound covers ATen's cascade_sum") {
  if (!llmc::test::sum_replay_supported()) {
    WARN("SKIPPED: this CPU has no AVX2; the kernels' sum replay was not run");
    return;
  }
  // Every size to 2^13 (the short ranges and the first cascades), then sizes around each
  // power of two and level boundary to 2^25 values (a chunk of 32M elements).
  std::vector<int64_t> sizes;
  for (int64_t size = 0; size <= (1 << 13); ++size) sizes.push_back(size);
  for (int shift = 14; shift <= 25; ++shift) {
    for (const int64_t delta : {-65, -64, -17, -16, -1, 0, 1, 15, 16, 63, 64, 4097}) {
      sizes.push_back((int64_t{1} << shift) + delta);
    }
    sizes.push_back(3 * (int64_t{1} << (shift - 1)));
  }
  std::vector<std::string> failures;
  for (const int64_t size : sizes) {
    const int64_t depth = llmc::test::replay_range_sum_depth(size);
    const int64_t bound = llmc::kernels::cascade_sum_depth_bound(size);
    if (depth > bound) {
      failures.push_back("size " + std::to_string(size) + ": depth " + std::to_string(depth) +
                         " > bound " + std::to_string(bound));
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
  // The bound is not slack enough to make the counts useless: at 2^23 values (a 4096x4096
  // weight's chunk at 2 threads) it is within 2x of the replayed depth.
  CHECK(llmc::kernels::cascade_sum_depth_bound(1 << 23) <=
        2 * llmc::test::replay_range_sum_depth(1 << 23));
}

TEST_CASE("fused kernels decide a 16-bit sum's rounding only where the bound cannot cross it") {
  using llmc::kernels::decided_rounding;
  const double error = llmc::kernels::cascade_sum_relative_error(160, 5000);
  REQUIRE(error > 160 * std::ldexp(1.0, -24));
  REQUIRE(error < 161 * std::ldexp(1.0, -24));
  // A bf16 value, and values near it, round to it.
  CHECK(decided_rounding<ValueType::BFloat16>(1.0, error) == 1.0f);
  CHECK(decided_rounding<ValueType::BFloat16>(1.0 + std::ldexp(1.0, -10), error) == 1.0f);
  CHECK(decided_rounding<ValueType::BFloat16>(0.0, error) == 0.0f);
  // bf16's midpoint between 1 and 1 + 2^-7, and anything within the bound of it: undecided.
  CHECK_FALSE(decided_rounding<ValueType::BFloat16>(1.0 + std::ldexp(1.0, -8), error));
  CHECK_FALSE(decided_rounding<ValueType::BFloat16>(1.0 + std::ldexp(1.0, -8) * (1 + 1e-4), error));
  CHECK(decided_rounding<ValueType::BFloat16>(1.0 + std::ldexp(1.0, -8) * 1.01, error) ==
        1.0f + 0.0078125f);
  // With no error, a value a few fp32 units past the midpoint is decided, one less than an fp32
  // unit past it is not (the fp32 sum could be the midpoint itself).
  CHECK(decided_rounding<ValueType::BFloat16>(1.0 + std::ldexp(1.0, -8) * (1 + 1e-3), 0.0) ==
        1.0f + 0.0078125f);
  CHECK_FALSE(decided_rounding<ValueType::BFloat16>(1.0 + std::ldexp(1.0, -8) * (1 + 1e-6), 0.0));
  // fp16: its midpoint between 1 and 1 + 2^-10, and its overflow to inf (decided: every sum
  // within the bound rounds to inf), against fp32's (undecided: the bound fails there).
  CHECK_FALSE(decided_rounding<ValueType::Float16>(1.0 + std::ldexp(1.0, -11), error));
  CHECK(decided_rounding<ValueType::Float16>(1.0 + std::ldexp(1.0, -9), error) ==
        1.0f + 0.001953125f);
  CHECK(decided_rounding<ValueType::Float16>(1e6, error) == std::numeric_limits<float>::infinity());
  CHECK(decided_rounding<ValueType::BFloat16>(3.4e38, error) ==
        std::numeric_limits<float>::infinity());
  CHECK_FALSE(decided_rounding<ValueType::BFloat16>(3.40282e38, error));
  CHECK_FALSE(decided_rounding<ValueType::BFloat16>(std::numeric_limits<double>::infinity(), error));
  CHECK_FALSE(decided_rounding<ValueType::BFloat16>(std::nan(""), error));
}

TEST_CASE("fused grid search sums a single scale group from value counts as the reference does") {
  // Each candidate's error bit for bit, with the sums taken from value counts wherever they
  // decide (Always: every size) and with every sum replayed (Never): sizes of one thread's
  // range, of two chunks and of three (at 3 threads), not multiples of 64, so that ATen's
  // scalar pow tails fall at the chunks' ends; norm 2.4 (the pow table, scalar tails) and 2
  // (no table).
  const std::vector<std::pair<std::string, QuantizationArgs>> schemes = {
      {"int8 sym", tensor_args(QuantizationArgs().num_bits(8))},
      {"int4 asym", tensor_args(QuantizationArgs().num_bits(4).symmetric(false))},
      {"fp8", tensor_args(QuantizationArgs().num_bits(8).type(QuantizationType::Float))},
  };
  const std::vector<std::pair<std::string, GridSearchOptions>> loops = {
      {"mse", GridSearchOptions::mse()},
      {"mse norm 2", GridSearchOptions::mse().norm(2.0)},
  };
  const std::vector<int64_t> sizes = {999, 70001, 140003};
  std::vector<std::string> failures;
  int64_t counted = 0;
  int64_t sums = 0;
  uint64_t seed = 71;
  for (const int threads : {1, 2, 3}) {
    const ThreadCount thread_count(threads);
    for (const c10::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
      for (const int64_t size : sizes) {
        // Gaussian values with outliers, an exact zero run and rows a binade apart.
        at::manual_seed(seed++);
        at::Tensor weight = at::randn({1, size}) * 0.05;
        weight = at::where(at::rand({1, size}) < 0.01, weight * 40, weight);
        weight.narrow(1, size / 3, size / 10).zero_();
        weight.narrow(1, size / 2, size / 5).mul_(2.0);
        weight = weight.to(dtype);
        for (const auto& [scheme_name, args] : schemes) {
          const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
          for (const auto& [loop_name, options] : loops) {
            const std::vector<float> expected =
                llmc::test::single_group_reference_errors(observed, args, options, std::nullopt);
            for (const ErrorMemoUse use : {ErrorMemoUse::Always, ErrorMemoUse::Never}) {
              int64_t decided = 0;
              const std::vector<float> got = llmc::kernels::single_group_candidate_errors(
                  observed, args, options, std::nullopt, use, &decided);
              if (use == ErrorMemoUse::Always) {
                counted += decided;
                const int64_t chunks =
                    threads == 1 || size < 32768 ? 1 : std::min<int64_t>(threads, (size + 32767) / 32768);
                sums += chunks * static_cast<int64_t>(got.size());
              } else if (decided != 0) {
                failures.push_back("Never still decided " + std::to_string(decided) + " sums");
              }
              std::string why;
              if (!llmc::test::bit_equal(at::tensor(got), at::tensor(expected), &why)) {
                failures.push_back(std::to_string(threads) + " threads, " +
                                   c10::toString(dtype) + " " + std::to_string(size) + ", " +
                                   scheme_name + ", " + loop_name +
                                   (use == ErrorMemoUse::Always ? ", counts: " : ", replayed: ") +
                                   why);
              }
            }
          }
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
  // Nearly every sum came from the counts (the rest lay near a rounding boundary).
  INFO(counted << " of " << sums << " chunk sums decided by the counts");
  CHECK(counted >= sums * 9 / 10);
}

TEST_CASE("fused grid search replays a chunk sum that lies on a rounding midpoint") {
  // An int8 tensor of zeros but two values: 0.99609375 (scale 2^-7 for candidate 0, and an
  // error of 2^-8 after the clamp to 127) and 2^-7 + 2^-12 (an error of 2^-12). With norm 2 the
  // terms are 2^-16 and 2^-24, and their sum is exactly the midpoint between bf16's 2^-16 and
  // 2^-16 + 2^-23: the counts must leave it to the replay, which rounds ATen's (exact) fp32 sum
  // to even. The chunk of zeros (at 2 threads) and the other candidates are decided.
  const QuantizationArgs args = tensor_args(QuantizationArgs().num_bits(8));
  const GridSearchOptions options = GridSearchOptions::mse().norm(2.0);
  at::Tensor weight = at::zeros({1, 70000}, at::kBFloat16);
  weight[0][0] = 0.99609375;
  weight[0][1] = 0.0078125 + 0.000244140625;
  for (const int threads : {1, 2}) {
    const ThreadCount thread_count(threads);
    const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
    const std::vector<float> expected =
        llmc::test::single_group_reference_errors(observed, args, options, std::nullopt);
    REQUIRE(expected[0] == std::ldexp(1.0f, -16));
    int64_t decided = 0;
    const std::vector<float> got = llmc::kernels::single_group_candidate_errors(
        observed, args, options, std::nullopt, ErrorMemoUse::Always, &decided);
    std::string why;
    CHECK(llmc::test::bit_equal(at::tensor(got), at::tensor(expected), &why));
    INFO(why);
    const int64_t chunks = threads;  // 70000 values: two chunks at 2 threads
    CHECK(decided == chunks * static_cast<int64_t>(got.size()) - 1);
  }
}

TEST_CASE("fused grid search counts values under Auto only where the counts are the cheaper") {
  // A bf16 weight of few distinct values (Gaussian) takes its sums from the counts; an fp16
  // one of nearly all-distinct values (a ramp over fp16's range) is replayed, as is a weight of
  // fewer than 2^16 elements. All three give the reference's errors.
  const ThreadCount thread_count(1);
  const QuantizationArgs args = tensor_args(QuantizationArgs().num_bits(8));
  const GridSearchOptions options = GridSearchOptions::mse();
  at::manual_seed(5);
  struct Case {
    std::string name;
    at::Tensor weight;
    bool counted;
  };
  const std::vector<Case> cases = {
      {"bf16 Gaussian", (at::randn({1, 100000}) * 0.05).to(at::kBFloat16), true},
      {"fp16 ramp", at::linspace(-60000.0, 60000.0, 100000).view({1, -1}).to(at::kHalf), false},
      {"bf16 Gaussian, small", (at::randn({1, 60000}) * 0.05).to(at::kBFloat16), false},
  };
  for (const Case& c : cases) {
    const at::Tensor observed = llmc::flatten_for_calibration(c.weight, "weight", args);
    const std::vector<float> expected =
        llmc::test::single_group_reference_errors(observed, args, options, std::nullopt);
    int64_t decided = 0;
    const std::vector<float> got = llmc::kernels::single_group_candidate_errors(
        observed, args, options, std::nullopt, ErrorMemoUse::Auto, &decided);
    std::string why;
    INFO(c.name << ": " << decided << " sums decided by the counts");
    CHECK(llmc::test::bit_equal(at::tensor(got), at::tensor(expected), &why));
    INFO(why);
    CHECK((decided > 0) == c.counted);
  }
}
