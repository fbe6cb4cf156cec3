// The fused grid search kernels against the LibTorch reference loop (itself bit-identical to
// llm-compressor, test_grid_search.cpp): seeded random weights with outliers, all-zero and
// constant groups, every dtype, quantization type and loop semantics; the chosen ranges must be
// bitwise equal.
#include <llmc/error.hpp>
#include <llmc/kernels/aten_cuda_sum_order.hpp>
#include <llmc/kernels/grid_search.hpp>
#include <llmc/observers/grid_search.hpp>
#include <llmc/observers/helpers.hpp>

#include <ATen/Parallel.h>

#include <cmath>
#include <exception>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/scalar_tails.hpp"

using llmc::GridSearchBackend;
using llmc::GridSearchOptions;
using llmc::QuantizationArgs;
using llmc::QuantizationStrategy;
using llmc::QuantizationType;

namespace {

struct NamedArgs {
  std::string name;
  QuantizationArgs args;
};

std::vector<NamedArgs> quantization_cases() {
  const auto int_args = [](int64_t bits, bool symmetric) {
    return QuantizationArgs().num_bits(bits).symmetric(symmetric);
  };
  const auto fp8 = QuantizationArgs().num_bits(8).type(QuantizationType::Float);
  return {
      {"int4 sym group 32", int_args(4, true).group_size(32).validated()},
      {"int4 asym group 16", int_args(4, false).group_size(16).validated()},
      {"int8 sym channel", int_args(8, true).strategy(QuantizationStrategy::Channel).validated()},
      {"int8 asym channel", int_args(8, false).strategy(QuantizationStrategy::Channel).validated()},
      {"int4 asym block 8x16", int_args(4, false)
                                   .strategy(QuantizationStrategy::Block)
                                   .block_structure(std::vector<int64_t>{8, 16})
                                   .validated()},
      {"fp8 channel", QuantizationArgs(fp8).strategy(QuantizationStrategy::Channel).validated()},
      {"nvfp4 tensor_group 16", QuantizationArgs()
                                    .num_bits(4)
                                    .type(QuantizationType::Float)
                                    .strategy(QuantizationStrategy::TensorGroup)
                                    .group_size(16)
                                    .scale_dtype(at::kFloat8_e4m3fn)
                                    .zp_dtype(at::kFloat8_e4m3fn)
                                    .validated()},
  };
}

struct NamedOptions {
  std::string name;
  GridSearchOptions options;
  bool importance;
};

std::vector<NamedOptions> loop_cases() {
  const auto nvfp4_expanded =
      GridSearchOptions().expand(1.8).maxshrink(1.0 - 0.8 / 1.8).grid(200).patience(1000);
  return {
      {"mse", GridSearchOptions::mse(), false},
      {"mse patience 1", GridSearchOptions::mse().patience(1), false},
      {"mse norm 2 with importance", GridSearchOptions::mse().norm(2.0), true},
      {"nvfp4_expanded_mse", nvfp4_expanded, false},
      {"imatrix", GridSearchOptions::imatrix(), true},
      {"imatrix patience 0", GridSearchOptions::imatrix().patience(0), true},
      {"imatrix norm 2.4 no importance", GridSearchOptions::imatrix().norm(2.4), false},
  };
}

// Gaussian weights with a few outliers, one all-zero row, one constant row.
at::Tensor random_weight(int64_t rows, int64_t cols, c10::ScalarType dtype, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor weight = at::randn({rows, cols}) * 0.05;
  const at::Tensor outliers = at::rand({rows, cols}) < 0.01;
  weight = at::where(outliers, weight * 40, weight);
  weight[0].zero_();
  if (rows > 2) weight[rows / 2].fill_(0.03);
  return weight.to(dtype);
}

// How many bounds of `got` differ from `expected` bit for bit (the sign of a zero included,
// which ne on the values does not see).
int64_t bounds_differing_in_bits(const at::Tensor& got, const at::Tensor& expected) {
  const auto bits = [](const at::Tensor& t) {
    return t.contiguous().view(t.element_size() == 4 ? at::kInt : at::kShort);
  };
  return bits(got).ne(bits(expected)).sum().item<int64_t>();
}

at::Tensor random_importance(const at::Tensor& weight, const QuantizationArgs& args) {
  const at::Tensor columns = (at::rand({weight.size(1)}).pow(4) + 1e-3).to(weight.device());
  const at::Tensor normalised = columns / (columns.mean() + std::numeric_limits<float>::min());
  return llmc::flatten_for_calibration(normalised.unsqueeze(0).expand({weight.size(0), -1}),
                                       "weight", args);
}

// Empty when equal, otherwise a description of where the ranges differ.
std::string compare_backends(const at::Tensor& observed, const QuantizationArgs& args,
                             const GridSearchOptions& options,
                             const std::optional<at::Tensor>& importance) {
  const auto [ref_min, ref_max] = llmc::grid_search_mse(
      observed, args, GridSearchOptions(options).backend(GridSearchBackend::Reference),
      importance);
  const auto [fused_min, fused_max] = llmc::fused_grid_search(observed, args, options, importance);
  const at::Tensor differ = ref_min.ne(fused_min).logical_or(ref_max.ne(fused_max));
  const int64_t count = differ.sum().item<int64_t>();
  if (count == 0 && ref_min.scalar_type() == fused_min.scalar_type()) return "";
  std::ostringstream msg;
  msg << count << " of " << differ.numel() << " groups differ";
  return msg.str();
}

struct Shape {
  int64_t rows;
  int64_t cols;
};

}  // namespace

TEST_CASE("fused grid search chooses the reference's range for every dtype and quant type") {
  const std::vector<Shape> shapes = {{9, 96}, {32, 128}, {24, 64}};
  std::vector<std::string> failures;
  int64_t compared = 0;
  uint64_t seed = 1;
  for (const c10::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const auto& quant : quantization_cases()) {
      for (const auto& loop : loop_cases()) {
        const Shape shape = shapes[seed % shapes.size()];
        const at::Tensor weight = random_weight(shape.rows, shape.cols, dtype, seed++);
        const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", quant.args);
        std::optional<at::Tensor> importance;
        if (loop.importance) importance = random_importance(weight, quant.args);
        const std::string result = compare_backends(observed, quant.args, loop.options, importance);
        ++compared;
        if (!result.empty()) {
          failures.push_back(std::string(c10::toString(dtype)) + " " + quant.name + " " +
                             loop.name + ": " + result);
        }
      }
    }
  }
  INFO(compared << " cases");
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search replays the global patience rule of both loops") {
  // Groups of 16 (the lanes layout, in rounds) and of 128 (the group layout: in rounds for mse's
  // pow table; in one round with the clamp bound for imatrix's norm 3 and mse's norm 2, where
  // the stop is applied afterwards from the improvement bits).
  std::vector<std::string> failures;
  for (const int64_t group : {16, 128}) {
    const auto args = QuantizationArgs().num_bits(4).group_size(group).validated();
    for (const int64_t patience : {0, 1, 2, 3, 5}) {
      for (const std::string loop : {"mse", "mse norm 2", "imatrix"}) {
        const auto options = (loop == "imatrix"      ? GridSearchOptions::imatrix()
                              : loop == "mse norm 2" ? GridSearchOptions::mse().norm(2.0)
                                                     : GridSearchOptions::mse())
                                 .patience(patience);
        for (uint64_t seed = 100; seed < 106; ++seed) {
          // Few groups: early stops are frequent.
          const at::Tensor weight = random_weight(2 + seed % 3, 2 * group, at::kBFloat16, seed);
          const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
          const std::string result = compare_backends(observed, args, options, std::nullopt);
          if (!result.empty()) {
            failures.push_back("group " + std::to_string(group) + " patience " +
                               std::to_string(patience) + " " + loop + ": " + result);
          }
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search stops where the reference does after running a sample or a round to the end") {
  // With a pow table (16-bit errors, norm 2.4) the driver first runs a sample of the groups
  // (the first 1/16) through every candidate, and the others too if the sample never goes
  // `patience` candidates without an improvement; else in rounds, of which the next runs to the
  // last candidate once at least max(16, groups / 64) groups improved at the end of a round. In
  // each long round the patience stop is applied afterwards. Here 256 groups are copies of one
  // row (so all improve, or none, at the same candidates: the rule fires inside the long
  // rounds), random rows, or 8 rows of copies (the sample and 16 groups more) and random rows
  // after them, with patience 1, 2 and 5. Groups of 128 (the group layout) and of 16 (the
  // lanes layout: 2048 groups, the sample and the copies 128 and 256 of them).
  std::vector<std::string> failures;
  for (const int64_t group_size : {128, 16}) {
    const auto args = QuantizationArgs().num_bits(4).group_size(group_size).validated();
    for (const c10::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
      for (const std::string rows : {"copies", "random", "copies first"}) {
        for (const int64_t patience : {1, 2, 5}) {
          for (uint64_t seed = 700; seed < 704; ++seed) {
            at::Tensor weight = random_weight(64, 512, at::kFloat, seed);
            const at::Tensor copies = weight[1].slice(0, 0, 128).repeat({64, 4});
            if (rows == "copies") weight = copies;
            if (rows == "copies first") weight.slice(0, 0, 8).copy_(copies.slice(0, 0, 8));
            weight = weight.to(dtype);
            const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
            const std::string result = compare_backends(
                observed, args, GridSearchOptions::mse().patience(patience), std::nullopt);
            if (!result.empty()) {
              failures.push_back("group " + std::to_string(group_size) + " " +
                                 c10::toString(dtype) + " " + rows + " patience " +
                                 std::to_string(patience) + " seed " + std::to_string(seed) +
                                 ": " + result);
            }
          }
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search pipelines rounds of one, two and three candidates") {
  // With a pow table the group layout pipelines a round's candidates three deep, so a round of
  // fewer than three runs only the fill and drain passes (one stream or two per pass). 6, 7
  // and 8 candidates with patience 5 end in a second round of 1, 2 and 3 (the first round is
  // 0..5); 1 and 2 candidates are a whole search of one round.
  std::vector<std::string> failures;
  for (const bool symmetric : {true, false}) {
    const auto args =
        QuantizationArgs().num_bits(4).symmetric(symmetric).group_size(128).validated();
    for (const c10::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
      for (const double maxshrink : {0.01, 0.02, 0.06, 0.07, 0.08}) {
        for (uint64_t seed = 720; seed < 722; ++seed) {
          const at::Tensor weight = random_weight(24, 512, dtype, seed);
          const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
          const std::string result = compare_backends(
              observed, args, GridSearchOptions::mse().maxshrink(maxshrink), std::nullopt);
          if (!result.empty()) {
            failures.push_back(std::string(c10::toString(dtype)) +
                               (symmetric ? " sym" : " asym") + " maxshrink " +
                               std::to_string(maxshrink) + " seed " + std::to_string(seed) +
                               ": " + result);
          }
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused kernels visit exactly the scalar pow tail elements of each range") {
  // ScalarTails, which every layout uses to find the elements where ATen's pow ran std::pow:
  // random sorted disjoint tails and increasing windows (groups, lane blocks or range_sum's
  // blocks) that cut them anywhere, against a brute-force scan.
  std::mt19937 random(17);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::pair<int64_t, int64_t>> tails;
    for (int64_t at = static_cast<int64_t>(random() % 20); at < 2000;) {
      const int64_t length = 1 + static_cast<int64_t>(random() % 40);
      tails.emplace_back(at, at + length);
      at += length + 1 + static_cast<int64_t>(random() % 300);
    }
    std::vector<std::pair<int64_t, int64_t>> windows;
    for (int64_t at = static_cast<int64_t>(random() % 50); at < 2400;) {
      const int64_t length = 1 + static_cast<int64_t>(random() % 200);
      windows.emplace_back(at, at + length);
      at += length + static_cast<int64_t>(random() % 3);  // adjacent, or a gap
    }
    for (const bool general : {true, false}) {
      const auto visited = llmc::test::replay_scalar_tails(tails, general, windows);
      REQUIRE(visited.size() == windows.size());
      for (size_t w = 0; w < windows.size(); ++w) {
        std::vector<int64_t> expected;
        for (int64_t k = windows[w].first; general && k < windows[w].second; ++k) {
          for (const auto& [begin, end] : tails) {
            if (begin <= k && k < end) expected.push_back(k);
          }
        }
        INFO("trial " << trial << " window [" << windows[w].first << ", " << windows[w].second
                      << ")" << (general ? "" : ", not a general pow"));
        REQUIRE(visited[w] == expected);
      }
    }
  }
}

TEST_CASE("fused grid search reproduces ATen's pow on its parallel chunk tails") {
  // > 32768 elements and chunk sizes that are no multiple of the vector step: some elements of
  // the reference's pow ran std::pow instead of Sleef, for 1, 2 and 3 threads.
  const auto args = QuantizationArgs().num_bits(4).symmetric(false).group_size(16).validated();
  const int previous_threads = at::get_num_threads();
  std::vector<std::string> failures;
  for (const int threads : {1, 2, 3}) {
    at::set_num_threads(threads);
    for (const c10::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
      const at::Tensor weight = random_weight(263, 144, dtype, 7 + threads);
      const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
      for (const auto& options : {GridSearchOptions::mse(), GridSearchOptions::imatrix().norm(2.4)}) {
        const std::string result = compare_backends(observed, args, options, std::nullopt);
        if (!result.empty()) {
          failures.push_back(std::to_string(threads) + " threads " + c10::toString(dtype) + ": " +
                             result);
        }
      }
    }
  }
  at::set_num_threads(previous_threads);
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search matches the reference on long rows and many candidates") {
  // Channel rows of 1000 and 2048 values: ATen's cascade_sum flushes its levels (more than 16
  // rows of 4 loads) and 1000 is no whole number of vectors, so the kernel's buffered sum runs
  // instead of its streaming one. grid 400 gives 80 candidates: improvement bits span two words
  // when patience stops late.
  const auto int8 = QuantizationArgs().num_bits(8).strategy(QuantizationStrategy::Channel).validated();
  const auto int4_asym = QuantizationArgs()
                             .num_bits(4)
                             .symmetric(false)
                             .strategy(QuantizationStrategy::Channel)
                             .validated();
  const std::vector<NamedOptions> loops = {
      {"mse", GridSearchOptions::mse(), false},
      {"mse grid 400 patience 70", GridSearchOptions::mse().grid(400).patience(70), false},
      {"imatrix", GridSearchOptions::imatrix(), true},
  };
  std::vector<std::string> failures;
  uint64_t seed = 900;
  for (const int64_t cols : {1000, 2048}) {
    for (const c10::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
      for (const auto* args : {&int8, &int4_asym}) {
        for (const auto& loop : loops) {
          const at::Tensor weight = random_weight(6, cols, dtype, seed++);
          const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", *args);
          std::optional<at::Tensor> importance;
          if (loop.importance) importance = random_importance(weight, *args);
          const std::string result = compare_backends(observed, *args, loop.options, importance);
          if (!result.empty()) {
            failures.push_back(std::to_string(cols) + " cols " + c10::toString(dtype) + " " +
                               loop.name + ": " + result);
          }
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search looks up int2 to int4 levels exactly as the reference computes them") {
  // Int grids of at most 16 levels in groups of more than 64 values take each level's
  // dequantized value from a per-candidate table (a permute) instead of a multiply and
  // roundings per element; 8-bit grids keep the per-element ops. Groups of 128 and 256 (the
  // bench's W4 g128 and the pipelined pow-table lookup), every dtype and loop, symmetric and
  // asymmetric, and more than 32768 values at 1 and 3 threads so that ATen's pow left scalar
  // tails inside the groups.
  std::vector<std::string> failures;
  int64_t compared = 0;
  uint64_t seed = 1700;
  const int previous_threads = at::get_num_threads();
  for (const int64_t bits : {2, 3, 4, 8}) {
    for (const bool symmetric : {true, false}) {
      for (const int64_t group : {128, 256}) {
        const auto args =
            QuantizationArgs().num_bits(bits).symmetric(symmetric).group_size(group).validated();
        for (const c10::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
          for (const auto& loop : loop_cases()) {
            const bool with_tails = seed % 4 == 0;
            at::set_num_threads(with_tails && seed % 8 == 0 ? 1 : (with_tails ? 3 : previous_threads));
            const int64_t rows = with_tails ? 263 : 12;
            const at::Tensor weight = random_weight(rows, 2 * group, dtype, seed++);
            const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
            std::optional<at::Tensor> importance;
            if (loop.importance) importance = random_importance(weight, args);
            const std::string result = compare_backends(observed, args, loop.options, importance);
            ++compared;
            if (!result.empty()) {
              failures.push_back("int" + std::to_string(bits) + (symmetric ? " sym" : " asym") +
                                 " group " + std::to_string(group) + " " +
                                 c10::toString(dtype) + " " + loop.name +
                                 (with_tails ? " (pow tails)" : "") + ": " + result);
            }
          }
        }
      }
    }
  }
  at::set_num_threads(previous_threads);
  INFO(compared << " cases");
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search abandons only candidates that cannot win") {
  // Groups of 128 and 96: the kernels check a candidate's partial error every 32 (fp32 sums) or
  // 64 (16-bit sums) values and drop it once that reaches the group's best. Cases: bench-like
  // imatrix searches, where most candidates are dropped; groups whose second half is zero, where
  // the partial error equals the final one (ties must still lose); and importance that turns
  // negative in the second half, where partial errors bound nothing and dropping would be wrong.
  const auto int4 = QuantizationArgs().num_bits(4).group_size(128).validated();
  const auto int4_asym = QuantizationArgs().num_bits(4).symmetric(false).group_size(96).validated();
  std::vector<std::string> failures;
  uint64_t seed = 1300;
  for (const c10::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const auto* args : {&int4, &int4_asym}) {
      const int64_t group = *args->group_size();
      for (const auto& loop : {NamedOptions{"imatrix", GridSearchOptions::imatrix(), true},
                               NamedOptions{"mse norm 2", GridSearchOptions::mse().norm(2.0),
                                            false},
                               NamedOptions{"mse norm 3 with importance",
                                            GridSearchOptions::mse().norm(3.0), true}}) {
        for (const std::string data : {"random", "zero second half", "negative importance"}) {
          if (data == "negative importance" && !loop.importance) continue;
          at::Tensor weight = random_weight(48, 2 * group, at::kFloat, seed++);
          if (data == "zero second half") {
            weight = weight.view({48, 2, 2, group / 2});
            weight.select(2, 1).zero_();
            weight = weight.view({48, 2 * group});
          }
          weight = weight.to(dtype);
          const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", *args);
          std::optional<at::Tensor> importance;
          if (loop.importance) {
            importance = random_importance(weight, *args);
            if (data == "negative importance") {
              const at::Tensor sign = at::ones({group});
              sign.slice(0, group / 2).fill_(-3.0);
              importance = (*importance * sign).contiguous();
            }
          }
          const std::string result = compare_backends(observed, *args, loop.options, importance);
          if (!result.empty()) {
            failures.push_back(std::string(c10::toString(dtype)) + " group " +
                               std::to_string(group) + " " + loop.name + " " + data + ": " +
                               result);
          }
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search starts from ATen's amin and amax, signed zeros included") {
  // The kernel's own min/max pass (no candidates: the range it returns is where it starts)
  // against at::amin / at::amax bit for bit: group sizes with and without a vector tail, groups
  // of +0 and -0 mixed, all -0, zeros at either end of the range.
  const auto no_candidates = GridSearchOptions::mse().maxshrink(0.0);
  std::vector<std::string> failures;
  uint64_t seed = 1700;
  for (const c10::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const int64_t group : {16, 17, 40, 128, 1000}) {
      const auto args = QuantizationArgs().num_bits(4).group_size(group).validated();
      at::Tensor weight = random_weight(12, 2 * group, at::kFloat, seed++);
      weight[1].slice(0, 0, group).fill_(-0.0);                     // all -0
      weight[2].slice(0, 0, group).zero_();
      weight[2].slice(0, 0, group).slice(0, 0, group, 3).fill_(-0.0);  // +0 and -0
      weight[3] = weight[3].abs();
      weight[3][group / 2] = -0.0;                                     // min is a zero
      weight[4] = -weight[4].abs();
      weight[4][group - 1] = 0.0;                                      // max is a zero
      weight[4][0] = -0.0;
      weight = weight.to(dtype);
      const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
      const auto [min_val, max_val] =
          llmc::fused_grid_search(observed, args, no_candidates, std::nullopt);
      const int64_t differ = bounds_differing_in_bits(min_val, at::amin(observed, {0, -1})) +
                             bounds_differing_in_bits(max_val, at::amax(observed, {0, -1}));
      if (differ != 0) {
        failures.push_back(std::string(c10::toString(dtype)) + " group " + std::to_string(group) +
                           ": " + std::to_string(differ) + " bounds differ");
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search keeps ATen's signed zeros through the search") {
  // The zero-ended rows of the test above among random rows, now searched: a range that starts
  // at a zero keeps it through every shrink, so the result holds ATen's zero. Fused against the
  // reference bit for bit (the sign of a zero included), 256 groups of 128 (with a pow table,
  // the sample run and the others) and 64 groups of 1000 (the buffered sum); mse and
  // imatrix_mse (the clamp bound), both symmetries.
  std::vector<std::string> failures;
  uint64_t seed = 1760;
  for (const c10::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const int64_t group : {128, 1000}) {
      for (const bool symmetric : {true, false}) {
        const auto args =
            QuantizationArgs().num_bits(4).symmetric(symmetric).group_size(group).validated();
        at::Tensor weight = random_weight(64, 4 * group, at::kFloat, seed++);
        for (const int64_t row : {1, 20, 63}) {
          weight[row].slice(0, 0, group).fill_(-0.0);                            // all -0
          weight[row].slice(0, group, 2 * group).zero_();                         // all +0
          weight[row].slice(0, 2 * group, 3 * group).zero_();                     // +0 and -0
          weight[row].slice(0, 2 * group, 3 * group).slice(0, 0, group, 3).fill_(-0.0);
        }
        weight[3] = weight[3].abs();
        weight[3][group / 2] = -0.0;  // the min is a -0
        weight[4] = -weight[4].abs();
        weight[4][group - 1] = 0.0;   // the max is a zero, and a -0 too
        weight[4][0] = -0.0;
        weight = weight.to(dtype);
        const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
        for (const bool imatrix : {false, true}) {
          const auto options = imatrix ? GridSearchOptions::imatrix() : GridSearchOptions::mse();
          std::optional<at::Tensor> importance;
          if (imatrix) importance = random_importance(weight, args);
          const auto [ref_min, ref_max] = llmc::grid_search_mse(
              observed, args, GridSearchOptions(options).backend(GridSearchBackend::Reference),
              importance);
          const auto [fused_min, fused_max] =
              llmc::fused_grid_search(observed, args, options, importance);
          const int64_t differ = bounds_differing_in_bits(fused_min, ref_min) +
                                 bounds_differing_in_bits(fused_max, ref_max);
          if (differ != 0) {
            failures.push_back(std::string(c10::toString(dtype)) + " group " +
                               std::to_string(group) + (symmetric ? " sym" : " asym") +
                               (imatrix ? " imatrix_mse" : " mse") + ": " +
                               std::to_string(differ) + " bounds differ");
          }
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search takes ATen's signed zero for one long zero-ended group among many") {
  // A lone group of 40000 values reduced by itself would be split between threads by ATen (one
  // output: two-pass reduction), unlike the same row reduced among others.
  const auto args =
      QuantizationArgs().num_bits(8).strategy(QuantizationStrategy::Channel).validated();
  const int previous_threads = at::get_num_threads();
  at::set_num_threads(2);
  std::vector<std::string> failures;
  for (uint64_t seed = 1900; seed < 1906; ++seed) {
    at::Tensor weight = random_weight(3, 40000, at::kFloat, seed).abs() + 0.01;
    at::manual_seed(seed);
    weight[1] = at::where(at::rand({40000}) < 0.5, at::zeros({40000}), weight[1]);
    weight[1] = at::where(at::rand({40000}) < 0.5, weight[1], -weight[1]);  // zeros get signs
    weight[1].masked_fill_(weight[1].ne(0), 1.0);
    const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
    const auto [min_val, max_val] = llmc::fused_grid_search(
        observed, args, GridSearchOptions::mse().maxshrink(0.0), std::nullopt);
    const at::Tensor expected = at::amin(observed, {0, -1});
    if (!min_val.view(at::kInt).equal(expected.view(at::kInt))) {
      failures.push_back("seed " + std::to_string(seed) + ": min of row 1 " +
                         std::to_string(std::signbit(min_val[1].item<float>())) + " vs " +
                         std::to_string(std::signbit(expected[1].item<float>())));
    }
  }
  at::set_num_threads(previous_threads);
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

namespace {

// Fused against the reference for ATen's pow specialisations (norm 1 copies; 0.5, 2 and 3 take
// sqrt, x*x and x*x*x where the device's PowKernel does, x*x*x rounding in a 16-bit error
// dtype after each multiply), with the error in the weight dtype (mse) and in fp32 (imatrix).
std::vector<std::string> pow_specialisation_failures(const c10::Device& device) {
  std::vector<std::string> failures;
  const auto w4 = QuantizationArgs().num_bits(4).group_size(32).validated();
  const auto w4_asym = QuantizationArgs().num_bits(4).symmetric(false).group_size(128).validated();
  uint64_t seed = 2100;
  for (const c10::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const double norm : {0.5, 1.0, 2.0, 3.0, 2.999}) {
      for (const bool imatrix : {false, true}) {
        for (const auto* args : {&w4, &w4_asym}) {
          const at::Tensor weight = random_weight(48, 256, dtype, seed++).to(device);
          const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", *args);
          const auto options =
              (imatrix ? GridSearchOptions::imatrix() : GridSearchOptions::mse()).norm(norm);
          std::optional<at::Tensor> importance;
          if (imatrix) importance = random_importance(weight, *args);
          const std::string result = compare_backends(observed, *args, options, importance);
          if (!result.empty()) {
            failures.push_back(std::string(c10::toString(dtype)) + " norm " +
                               std::to_string(norm) + (imatrix ? " imatrix" : " mse") +
                               (args == &w4 ? " sym g32" : " asym g128") + ": " + result);
          }
        }
      }
    }
  }
  return failures;
}

}  // namespace

TEST_CASE("fused grid search follows ATen's pow specialisations for norms 0.5, 1, 2 and 3") {
  const auto failures = pow_specialisation_failures(c10::Device(at::kCPU));
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search rejects NaN and infinite weights as the reference does") {
  // Groups of 40 (the lanes layout) and of 136 (one group at a time), the bad value in a
  // vector and in the scalar tail.
  for (const int64_t group : {40, 136}) {
    const auto args = QuantizationArgs().num_bits(4).group_size(group).validated();
    for (const c10::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
      for (const float bad : {std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()}) {
        for (const int64_t position : {int64_t{3}, group - 3}) {
          at::Tensor weight = random_weight(4, 2 * group, at::kFloat, 1800);
          weight[2][group + position] = bad;
          weight = weight.to(dtype);
          const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
          INFO(c10::toString(dtype) << " " << bad << " at " << position << " of " << group);
          std::string reference_error;
          try {
            llmc::grid_search_mse(observed, args,
                                  GridSearchOptions::mse().backend(GridSearchBackend::Reference),
                                  std::nullopt);
          } catch (const std::exception& e) {
            reference_error = e.what();
          }
          CHECK_FALSE(reference_error.empty());
          CHECK_THROWS_WITH(llmc::fused_grid_search(observed, args, GridSearchOptions::mse(),
                                                    std::nullopt),
                            reference_error);
        }
      }
    }
  }
}

TEST_CASE("grid search Auto backend falls back to the reference where fused is not exact") {
  const auto group = QuantizationArgs().num_bits(4).group_size(16).validated();
  const auto options = GridSearchOptions::mse();
  const at::Tensor activations = at::randn({3, 4, 16});  // N = 3 observations, 4 qparams
  CHECK(llmc::fused_grid_search_unsupported(activations, group, options, std::nullopt));
  const at::Tensor doubles = at::randn({1, 4, 16}, at::kDouble);
  CHECK(llmc::fused_grid_search_unsupported(doubles, group, options, std::nullopt));
  // A single scale group, and observations with one qparam, are fused on CPU
  // (test_grid_search_tensor.cpp replays ATen's two-pass sum for them).
  const auto tensor = QuantizationArgs().num_bits(8).validated();
  const at::Tensor single_group = at::randn({1, 1, 64});
  CHECK_FALSE(llmc::fused_grid_search_unsupported(single_group, tensor, options, std::nullopt));
  const at::Tensor observations = at::randn({3, 1, 64});
  CHECK_FALSE(llmc::fused_grid_search_unsupported(observations, tensor, options, std::nullopt));
  const auto mx = QuantizationArgs()
                      .num_bits(4)
                      .type(QuantizationType::Float)
                      .group_size(32)
                      .scale_dtype(at::kByte)
                      .zp_dtype(at::kByte)
                      .validated();
  // MX exponents and FP8 scales are fused on CPU (test_grid_search_scale_dtype.cpp).
  const at::Tensor weight = at::randn({1, 4, 32});
  CHECK_FALSE(llmc::fused_grid_search_unsupported(weight, mx, options, std::nullopt));
  // Auto still answers (through the reference) for every one of them.
  CHECK(llmc::grid_search_mse(activations, group, options).first.sizes() == at::IntArrayRef({4}));
  CHECK_THROWS_AS(llmc::fused_grid_search(activations, group, options), llmc::Error);
}

TEST_CASE("CUDA fused grid search chooses the reference's range") {
  if (!at::hasCUDA()) {
    WARN("SKIPPED: no CUDA device; the CUDA grid search kernel was not run");
    return;
  }
  std::vector<std::string> failures;
  uint64_t seed = 500;
  for (const c10::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const auto& quant : quantization_cases()) {
      for (const auto& loop : loop_cases()) {
        const at::Tensor weight = random_weight(64, 128, dtype, seed++).cuda();
        const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", quant.args);
        std::optional<at::Tensor> importance;
        if (loop.importance) importance = random_importance(weight, quant.args);
        const std::string result = compare_backends(observed, quant.args, loop.options, importance);
        if (!result.empty()) {
          failures.push_back(std::string(c10::toString(dtype)) + " " + quant.name + " " +
                             loop.name + ": " + result);
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("CUDA fused grid search equals the reference on Llama-sized rows in ATen's probed order") {
  if (!at::hasCUDA()) {
    WARN("SKIPPED: no CUDA device; the CUDA grid search kernel was not run");
    return;
  }
  const auto w4 = [](bool symmetric) {
    return QuantizationArgs().num_bits(4).symmetric(symmetric).group_size(128).validated();
  };
  const std::vector<NamedArgs> quants = {
      {"W4 sym group 128", w4(true)},
      {"W4 asym group 128", w4(false)},
      {"NVFP4 group 16", quantization_cases().back().args},
      {"int8 sym channel (G = 4096)",
       QuantizationArgs().num_bits(8).strategy(QuantizationStrategy::Channel).validated()},
  };
  const std::vector<NamedOptions> loops = {
      {"mse", GridSearchOptions::mse(), false},
      {"imatrix", GridSearchOptions::imatrix(), true},
  };
  std::vector<std::string> failures;
  uint64_t seed = 900;
  for (const c10::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
    for (const auto& quant : quants) {
      for (const auto& loop : loops) {
        const at::Tensor weight = random_weight(256, 4096, dtype, seed++).cuda();
        const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", quant.args);
        std::optional<at::Tensor> importance;
        if (loop.importance) importance = random_importance(weight, quant.args);
        const std::string label =
            std::string(c10::toString(dtype)) + " " + quant.name + " " + loop.name + ": ";
        // The order the kernel adds in must be one the device confirms (errors are summed in
        // fp32 after the importance multiply, else in the weight dtype).
        const c10::ScalarType summed = loop.importance ? at::kFloat : dtype;
        if (!llmc::kernels::probe_aten_cuda_sum_order(observed.size(-1),
                                                      observed.numel() / observed.size(-1),
                                                      summed, observed.device())) {
          failures.push_back(label + "the probe does not confirm ATen's summation order");
        }
        const std::string result = compare_backends(observed, quant.args, loop.options, importance);
        if (!result.empty()) failures.push_back(label + result);
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("CUDA fused grid search follows ATen CUDA's pow specialisations for norms 0.5, 1, 2 and 3") {
  if (!at::hasCUDA()) {
    WARN("SKIPPED: no CUDA device; the CUDA grid search kernel was not run");
    return;
  }
  const auto failures = pow_specialisation_failures(c10::Device(at::kCUDA, 0));
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}
