// The fused kernels pick the reference's candidate only if every error sum rounds exactly as
// ATen's: this checks their replay of ATen's cascade sum directly against at::sum, on values
// spread over many binades so that any change of summation order changes the result.
#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/sum_replay.hpp"

using llmc::test::SumDtype;

namespace {

// rows × size non-negative values of `dtype` (as floats), each addition of which rounds.
at::Tensor spread_values(int64_t rows, int64_t size, c10::ScalarType dtype, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor exponents = at::randint(-16, 4, {rows, size}).to(at::kFloat);
  const at::Tensor values = (at::rand({rows, size}) + 1.0) * at::pow(2.0, exponents);
  return values.to(dtype).to(at::kFloat).contiguous();
}

SumDtype sum_dtype(c10::ScalarType dtype) {
  if (dtype == at::kHalf) return SumDtype::Float16;
  if (dtype == at::kBFloat16) return SumDtype::BFloat16;
  return SumDtype::Float32;
}

// What the reference loop computes: the error tensor's sum over the group (in its dtype), or
// the fp32 errors times importance, summed.
at::Tensor aten_sums(const at::Tensor& errors, const std::optional<at::Tensor>& importance,
                     c10::ScalarType dtype) {
  if (importance) return (errors * *importance).sum(-1);
  return errors.to(dtype).sum(-1).to(at::kFloat);
}

}  // namespace

TEST_CASE("fused kernels sum group errors in ATen's cascade order, row by row and lane by lane") {
  if (!llmc::test::sum_replay_supported()) {
    WARN("SKIPPED: this CPU has no AVX2; the kernels' sum replay was not run");
    return;
  }
  const int64_t lanes = llmc::test::sum_replay_lanes();
  std::vector<int64_t> sizes;
  for (int64_t size = 1; size <= 72; ++size) sizes.push_back(size);
  for (const int64_t size : {96, 128, 130, 200, 256, 512, 960}) sizes.push_back(size);
  std::vector<std::string> failures;
  uint64_t seed = 1;
  for (const c10::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const bool weighted : {false, true}) {
      if (weighted && dtype != at::kFloat) continue;  // weighted errors are fp32
      for (const int64_t size : sizes) {
        const at::Tensor errors = spread_values(lanes, size, dtype, seed++);
        std::optional<at::Tensor> importance;
        if (weighted) importance = spread_values(lanes, size, at::kFloat, seed++);
        const at::Tensor expected = aten_sums(errors, importance, dtype);
        const std::string where = std::string(c10::toString(dtype)) +
                                  (weighted ? " weighted" : "") + " size " + std::to_string(size);

        const float* error_rows = errors.data_ptr<float>();
        const float* importance_rows = weighted ? importance->data_ptr<float>() : nullptr;
        for (int64_t row = 0; row < lanes; ++row) {
          const float sum = llmc::test::replay_group_sum(
              error_rows + row * size, weighted ? importance_rows + row * size : nullptr, size,
              sum_dtype(dtype));
          if (sum != expected[row].item<float>()) {
            failures.push_back(where + " row " + std::to_string(row) + ": " +
                               std::to_string(sum) + " vs " +
                               std::to_string(expected[row].item<float>()));
          }
        }
        if (llmc::test::table_pass_applies(size, sum_dtype(dtype), weighted)) {
          for (int64_t row = 0; row < lanes; ++row) {
            // Its fp32 accumulator must be the replay's bit for bit: the sum rounded to 16 bits
            // would let most changes of order through.
            bool streams_ok = false;
            float unrounded = 0.0f;
            const float sum = llmc::test::replay_table_pass_sum(
                error_rows + row * size, size, sum_dtype(dtype), &streams_ok, &unrounded);
            const float accumulator = llmc::test::replay_group_sum_accumulator(
                error_rows + row * size, size, sum_dtype(dtype));
            if (sum != expected[row].item<float>() || unrounded != accumulator || !streams_ok) {
              failures.push_back(where + " table pass row " + std::to_string(row) + ": " +
                                 std::to_string(sum) + " vs " +
                                 std::to_string(expected[row].item<float>()) + ", accumulator " +
                                 std::to_string(unrounded) + " vs " +
                                 std::to_string(accumulator) +
                                 (streams_ok ? "" : ", lookups or patterns wrong"));
            }
          }
        }
        if (weighted && llmc::test::weighted_pass_applies(size)) {
          for (const int norm : {1, 2, 3}) {
            // ATen's pow for norms 2 and 3 on fp32 is x * x and (x * x) * x, as the kernel's.
            const at::Tensor terms = norm == 1 ? errors : errors.pow(norm);
            const at::Tensor weighted_expected = (terms * *importance).sum(-1);
            for (int64_t row = 0; row < lanes; ++row) {
              const float sum = llmc::test::replay_weighted_pass_sum(
                  error_rows + row * size, importance_rows + row * size, size, norm);
              if (sum != weighted_expected[row].item<float>()) {
                failures.push_back(where + " weighted pass norm " + std::to_string(norm) +
                                   " row " + std::to_string(row) + ": " + std::to_string(sum) +
                                   " vs " +
                                   std::to_string(weighted_expected[row].item<float>()));
              }
            }
          }
        }
        // The lanes layout serves groups up to kLanesMaxGroupSize (64).
        if (size > 64) continue;
        const at::Tensor error_lanes = errors.t().contiguous();
        const at::Tensor importance_lanes = weighted ? importance->t().contiguous() : at::Tensor();
        std::vector<float> out(static_cast<size_t>(lanes));
        llmc::test::replay_lanes_sum(error_lanes.data_ptr<float>(),
                                     weighted ? importance_lanes.data_ptr<float>() : nullptr,
                                     size, sum_dtype(dtype), out.data());
        for (int64_t row = 0; row < lanes; ++row) {
          if (out[row] != expected[row].item<float>()) {
            failures.push_back(where + " lane " + std::to_string(row) + ": " +
                               std::to_string(out[row]) + " vs " +
                               std::to_string(expected[row].item<float>()));
          }
        }
      }
    }
  }
  for (size_t i = 0; i < failures.size() && i < 20; ++i) UNSCOPED_INFO(failures[i]);
  CHECK(failures.size() == 0);
}

TEST_CASE("streaming sum checkpoints equal ATen's sum of the group with the rest zeroed") {
  // What lets the kernels abandon a candidate part-way: at each checkpoint the partial sum is
  // bit for bit the final sum of the same values followed by zeros, hence (rounded addition
  // being monotone) no larger than the final sum of the real, non-negative values.
  if (!llmc::test::sum_replay_supported()) {
    WARN("SKIPPED: this CPU has no AVX2; the kernels' sum replay was not run");
    return;
  }
  std::vector<std::string> failures;
  int64_t checkpoints_checked = 0;
  uint64_t seed = 500;
  for (const c10::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const bool weighted : {false, true}) {
      if (weighted && dtype != at::kFloat) continue;
      const int64_t step = llmc::test::streaming_checkpoint_step(sum_dtype(dtype), weighted);
      for (const int64_t size : {8, 16, 32, 48, 64, 96, 128, 136, 192, 256, 496, 1008}) {
        if (!llmc::test::streaming_sum_applies(size, sum_dtype(dtype), weighted)) continue;
        const at::Tensor errors = spread_values(1, size, dtype, seed++);
        std::optional<at::Tensor> importance;
        if (weighted) importance = spread_values(1, size, at::kFloat, seed++);
        const std::string where = std::string(c10::toString(dtype)) +
                                  (weighted ? " weighted" : "") + " size " + std::to_string(size);
        std::vector<float> partial(static_cast<size_t>(size / step + 1), -1.0f);
        std::vector<uint8_t> claims(partial.size(), 0);
        const float total = llmc::test::replay_streaming_sum(
            errors.data_ptr<float>(), weighted ? importance->data_ptr<float>() : nullptr, size,
            sum_dtype(dtype), partial.data(), claims.data());
        const float expected = aten_sums(errors, importance, dtype)[0].item<float>();
        if (total != expected) {
          failures.push_back(where + " total: " + std::to_string(total) + " vs " +
                             std::to_string(expected));
        }
        for (int64_t end = step, c = 0; end < size; end += step, ++c) {
          const at::Tensor head = errors.clone();
          head.slice(1, end).zero_();
          const float zeroed = aten_sums(head, importance, dtype)[0].item<float>();
          ++checkpoints_checked;
          if (partial[c] != zeroed || partial[c] > total) {
            failures.push_back(where + " checkpoint at " + std::to_string(end) + ": " +
                               std::to_string(partial[c]) + " vs " + std::to_string(zeroed));
          }
          // The cheap abandon test: never above the sum so far, and close below it.
          if ((claims[c] & llmc::test::kClaimsAboveTotal) != 0 ||
              (claims[c] & llmc::test::kClaimsJustBelowTotal) == 0) {
            failures.push_back(where + " checkpoint at " + std::to_string(end) +
                               ": certainly_reaches claims " + std::to_string(claims[c]));
          }
        }
      }
    }
  }
  INFO(checkpoints_checked << " checkpoints");
  CHECK(checkpoints_checked > 20);
  for (size_t i = 0; i < failures.size() && i < 20; ++i) UNSCOPED_INFO(failures[i]);
  CHECK(failures.empty());
}
