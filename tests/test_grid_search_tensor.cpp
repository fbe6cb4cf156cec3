// A single scale group (TENSOR strategy, or activations with one qparam): ATen sums the whole
// tensor's errors in one reduction, which it splits across threads (two_pass_reduction). The
// fused kernel replays that split; these cases check the replayed sums against at::sum and the
// fused search against the reference loop, at 1, 2 and 3 threads.
#include <llmc/kernels/grid_search.hpp>
#include <llmc/observers/grid_search.hpp>
#include <llmc/observers/helpers.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/qparams.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "kernels/grid_search_single_group.hpp"
#include "support/catch.hpp"
#include "support/oracle.hpp"
#include "support/single_group_reference.hpp"
#include "support/sum_replay.hpp"
#include "support/thread_count.hpp"

using llmc::GridSearchBackend;
using llmc::GridSearchOptions;
using llmc::QuantizationArgs;
using llmc::QuantizationStrategy;
using llmc::QuantizationType;
using llmc::test::ThreadCount;
using llmc::test::SumDtype;

namespace {

constexpr int64_t kGrain = 32768;  // at::internal::GRAIN_SIZE

// `size` non-negative values of `dtype` (as floats) spread over 20 binades, so that any change
// of summation order changes an fp32 sum; small enough that fp16 sums stay finite.
at::Tensor spread_values(int64_t size, c10::ScalarType dtype, uint64_t seed) {
  at::manual_seed(seed);
  const int64_t top = dtype == at::kHalf ? -8 : 4;
  const at::Tensor exponents = at::randint(top - 20, top, {size}).to(at::kFloat);
  return ((at::rand({size}) + 1.0) * at::pow(2.0, exponents)).to(dtype).to(at::kFloat);
}

SumDtype sum_dtype(c10::ScalarType dtype) {
  if (dtype == at::kHalf) return SumDtype::Float16;
  if (dtype == at::kBFloat16) return SumDtype::BFloat16;
  return SumDtype::Float32;
}

float round_to(float value, c10::ScalarType dtype) {
  return at::scalar_tensor(value, dtype).to(at::kFloat).item<float>();
}

// The sum of `values` (already `dtype` values) as the single-group search replays ATen's: one
// range on one thread, or the two-pass split into min(threads, ceil(n / grain)) chunks whose
// sums are stored in `dtype` slots and summed again.
float replayed_sum(const at::Tensor& values, c10::ScalarType dtype, int threads) {
  const float* data = values.data_ptr<float>();
  const int64_t n = values.numel();
  const SumDtype type = sum_dtype(dtype);
  if (n < kGrain || threads == 1) {
    return round_to(llmc::test::replay_range_sum(data, n, type), dtype);
  }
  const int64_t chunks = std::min<int64_t>(threads, (n + kGrain - 1) / kGrain);
  const int64_t chunk = (n + chunks - 1) / chunks;
  std::vector<float> slots(static_cast<size_t>(threads), 0.0f);
  for (int64_t c = 0; c < chunks && c * chunk < n; ++c) {
    const int64_t length = std::min(n - c * chunk, chunk);
    slots[c] = round_to(llmc::test::replay_range_sum(data + c * chunk, length, type), dtype);
  }
  return round_to(llmc::test::replay_values_sum(slots.data(), threads, type), dtype);
}

}  // namespace

TEST_CASE("fused kernels sum a single scale group in ATen's two-pass order") {
  if (!llmc::test::sum_replay_supported()) {
    WARN("SKIPPED: this CPU has no AVX2; the kernels' sum replay was not run");
    return;
  }
  // Short ranges (one thread, the scalar sum below one load), ranges whose cascade flushes
  // several levels, and sizes around the grain, at 1, 2 and 3 threads.
  const std::vector<int64_t> sizes = {1,     3,     7,     15,     16,          17,
                                      100,   1023,  4099,  32767,  32768,       32769,
                                      65549, 98304, 300001, 1 << 20, (1 << 20) + 7};
  std::vector<std::string> failures;
  uint64_t seed = 1;
  for (const int threads : {1, 2, 3}) {
    const ThreadCount thread_count(threads);
    for (const c10::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
      for (const int64_t size : sizes) {
        const at::Tensor values = spread_values(size, dtype, seed++);
        // The reference's error sum: over (0, -1) of a (1, 1, n) tensor in the error dtype.
        const float expected =
            values.to(dtype).view({1, 1, size}).sum(at::IntArrayRef{0, -1}).to(at::kFloat).item<float>();
        const float got = replayed_sum(values, dtype, threads);
        std::string why;
        if (!llmc::test::bit_equal(at::scalar_tensor(got), at::scalar_tensor(expected), &why)) {
          failures.push_back(std::string(c10::toString(dtype)) + " size " + std::to_string(size) +
                             " threads " + std::to_string(threads) + ": " + why +
                             " (expected: at::sum)");
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

namespace {

struct NamedArgs {
  std::string name;
  QuantizationArgs args;
};

struct NamedOptions {
  std::string name;
  GridSearchOptions options;
  bool importance;
};

// Gaussian weights with a few outliers.
at::Tensor random_weight(int64_t rows, int64_t cols, c10::ScalarType dtype, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor weight = at::randn({rows, cols}) * 0.05;
  weight = at::where(at::rand({rows, cols}) < 0.01, weight * 40, weight);
  return weight.to(dtype);
}

// Empty when the fused search picks the reference's range bit for bit, else what differs.
std::string compare(const at::Tensor& observed, const QuantizationArgs& args,
                    const GridSearchOptions& options, const std::optional<at::Tensor>& importance) {
  const auto [ref_min, ref_max] = llmc::grid_search_mse(
      observed, args, GridSearchOptions(options).backend(GridSearchBackend::Reference), importance);
  const auto [fused_min, fused_max] = llmc::grid_search_mse(
      observed, args, GridSearchOptions(options).backend(GridSearchBackend::Fused), importance);
  std::string why_min;
  std::string why_max;
  const bool same_min = llmc::test::bit_equal(fused_min, ref_min, &why_min);
  const bool same_max = llmc::test::bit_equal(fused_max, ref_max, &why_max);
  if (same_min && same_max) return "";
  return (same_min ? "" : "min: " + why_min + "; ") + (same_max ? "" : "max: " + why_max);
}

}  // namespace

TEST_CASE("fused grid search chooses the reference's range for a single scale group") {
  const auto tensor = [](QuantizationArgs args) {
    return args.strategy(QuantizationStrategy::Tensor).validated();
  };
  const std::vector<NamedArgs> schemes = {
      {"int8 sym tensor", tensor(QuantizationArgs().num_bits(8).symmetric(true))},
      {"int4 asym tensor", tensor(QuantizationArgs().num_bits(4).symmetric(false))},
      {"fp8 tensor", tensor(QuantizationArgs().num_bits(8).type(QuantizationType::Float))},
  };
  const std::vector<NamedOptions> loops = {
      {"mse", GridSearchOptions::mse(), false},
      {"imatrix", GridSearchOptions::imatrix(), true},
      {"imatrix norm 2.4 no importance", GridSearchOptions::imatrix().norm(2.4), false},
  };
  // One thread's range (below the grain), two chunks at 2 and 3 threads, three chunks at 3
  // (with ATen's scalar pow tails at their ends).
  struct Shape {
    int64_t rows;
    int64_t cols;
  };
  const std::vector<Shape> shapes = {{64, 72}, {263, 144}, {301, 400}};
  std::vector<std::string> failures;
  uint64_t seed = 11;
  for (const int threads : {1, 2, 3}) {
    const ThreadCount thread_count(threads);
    for (const c10::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
      for (const Shape shape : shapes) {
        const at::Tensor weight = random_weight(shape.rows, shape.cols, dtype, seed++);
        for (const auto& scheme : schemes) {
          const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", scheme.args);
          REQUIRE_FALSE(llmc::fused_grid_search_unsupported(observed, scheme.args,
                                                            GridSearchOptions::mse(),
                                                            std::nullopt));
          for (const auto& loop : loops) {
            std::optional<at::Tensor> importance;
            if (loop.importance) {
              const at::Tensor columns = at::rand({shape.cols}).pow(4) + 1e-3;
              importance = llmc::flatten_for_calibration(
                  (columns / columns.mean()).unsqueeze(0).expand({shape.rows, -1}), "weight",
                  scheme.args);
            }
            const std::string result = compare(observed, scheme.args, loop.options, importance);
            if (!result.empty()) {
              failures.push_back(std::to_string(threads) + " threads, " +
                                 c10::toString(dtype) + " " + std::to_string(shape.rows) + "x" +
                                 std::to_string(shape.cols) + ", " + scheme.name + ", " +
                                 loop.name + ": " + result);
            }
          }
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search takes activations with one qparam as a single scale group") {
  // (N, 1, hidden) observations of a TENSOR-strategy activation: one flat sum, fused on CPU.
  const auto args = QuantizationArgs().num_bits(8).symmetric(false).strategy(
                                          QuantizationStrategy::Tensor).validated();
  std::vector<std::string> failures;
  for (const int threads : {1, 3}) {
    const ThreadCount thread_count(threads);
    for (const c10::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
      at::manual_seed(5 + threads);
      const at::Tensor activations = (at::randn({4, 37, 512}) * 2.0).to(dtype);
      const at::Tensor observed = llmc::flatten_for_calibration(activations, "input", args);
      REQUIRE(observed.size(0) > 1);
      REQUIRE_FALSE(llmc::fused_grid_search_unsupported(observed, args, GridSearchOptions::mse(),
                                                        std::nullopt));
      const std::string result = compare(observed, args, GridSearchOptions::mse(), std::nullopt);
      if (!result.empty()) {
        failures.push_back(std::to_string(threads) + " threads, " + c10::toString(dtype) + ": " +
                           result);
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused single-group search computes each candidate's error as the reference does") {
  // The errors themselves, bit for bit: a sum off in its last bits rarely changes the chosen
  // range, but shows here. Sizes below the grain (one thread's sum), of two and of three
  // chunks, with ATen's scalar pow tails at the chunks' ends (sizes no multiple of 64).
  const std::vector<NamedArgs> schemes = {
      {"int8 sym tensor",
       QuantizationArgs().num_bits(8).strategy(QuantizationStrategy::Tensor).validated()},
      {"int4 asym tensor", QuantizationArgs()
                               .num_bits(4)
                               .symmetric(false)
                               .strategy(QuantizationStrategy::Tensor)
                               .validated()},
  };
  const std::vector<NamedOptions> loops = {
      {"mse (norm 2.4)", GridSearchOptions::mse(), false},
      {"imatrix", GridSearchOptions::imatrix(), true},
      {"imatrix norm 2.4 no importance", GridSearchOptions::imatrix().norm(2.4), false},
  };
  const std::vector<int64_t> sizes = {999, 37871, 100003};
  std::vector<std::string> failures;
  uint64_t seed = 31;
  for (const int threads : {1, 2, 3}) {
    const ThreadCount thread_count(threads);
    for (const c10::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
      for (const int64_t size : sizes) {
        const at::Tensor weight = random_weight(1, size, dtype, seed++);
        for (const auto& scheme : schemes) {
          const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", scheme.args);
          for (const auto& loop : loops) {
            std::optional<at::Tensor> importance;
            if (loop.importance) {
              const at::Tensor columns = at::rand({1, size}).pow(4) + 1e-3;
              importance = llmc::flatten_for_calibration(columns / columns.mean(), "weight",
                                                         scheme.args);
            }
            const std::vector<float> expected =
                llmc::test::single_group_reference_errors(observed, scheme.args, loop.options,
                                                          importance);
            const std::vector<float> got = llmc::kernels::single_group_candidate_errors(
                observed, scheme.args, loop.options, importance);
            std::string why;  // the flat index of the first differing error is its candidate
            if (!llmc::test::bit_equal(at::tensor(got), at::tensor(expected), &why)) {
              failures.push_back(std::to_string(threads) + " threads, " +
                                 c10::toString(dtype) + " " + std::to_string(size) + ", " +
                                 scheme.name + ", " + loop.name + ": " + why);
            }
          }
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}
