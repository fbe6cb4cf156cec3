// The group kernel skips a candidate before computing any error when the clamp bound (the
// errors of a few of the group's extremes beyond the candidate's clamped range) already reaches
// the group's best: exact only if the bound never exceeds the candidate's own error as the
// kernel compares it. This checks that bound directly, candidate by candidate, for every
// weight and error dtype, int4 (level tables) and int8, both symmetries and each pow ATen
// specialises, on random groups and on groups whose whole error is their clamped extremes
// (where the bound is tight, so a summation-order slip or a missing margin shows).
#include <ATen/ATen.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/clamp_bound_replay.hpp"

using llmc::test::ClampBoundCase;
using llmc::test::SumDtype;

namespace {

constexpr int64_t kGroup = 128;
constexpr int64_t kCandidates = 21;  // imatrix_mse's default loop: p = 1 - i / 20, i <= 19 + 1
constexpr double kGrid = 20.0;

c10::ScalarType scalar_type(SumDtype dtype) {
  if (dtype == SumDtype::Float16) return at::kHalf;
  if (dtype == SumDtype::BFloat16) return at::kBFloat16;
  return at::kFloat;
}

// rows × kGroup values of `dtype`, as floats. "random": gaussian with 2% outliers; "extremes":
// zeros (error 0 under every candidate) but for 4 large positive and 4 large negative values,
// so that once they are all clamped a candidate's error is exactly their terms.
at::Tensor group_values(const std::string& kind, int64_t rows, SumDtype dtype, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor values;
  if (kind == "random") {
    values = at::randn({rows, kGroup}) * 0.05;
    values = at::where(at::rand({rows, kGroup}) < 0.02, values * 30, values);
  } else {
    values = at::zeros({rows, kGroup});
    const at::Tensor magnitude = at::rand({rows, 8}) * 0.5 + 0.5;
    const at::Tensor sign = at::cat({at::ones({rows, 4}), -at::ones({rows, 4})}, 1);
    const at::Tensor positions = at::argsort(at::rand({rows, kGroup}), /*dim=*/int64_t{1}, /*descending=*/false).slice(1, 0, 8);
    values.scatter_(1, positions, magnitude * sign);
  }
  return values.to(scalar_type(dtype)).to(at::kFloat).contiguous();
}

std::string describe(const ClampBoundCase& c, bool weighted) {
  return std::string(c10::toString(scalar_type(c.weight_dtype))) +
         (c.error_in_fp32 ? " fp32 errors" : " weight-dtype errors") + " int" +
         std::to_string(c.num_bits) + (c.symmetric ? " sym" : " asym") + " norm " +
         std::to_string(c.norm) + (weighted ? " weighted" : "");
}

}  // namespace

TEST_CASE("fused kernels' clamp bound never exceeds a candidate's error") {
  if (!llmc::test::sum_replay_supported()) {
    WARN("SKIPPED: this CPU has no AVX2; the clamp bound replay was not run");
    return;
  }
  constexpr int64_t kRows = 24;
  std::vector<std::string> failures;
  int64_t tight = 0;  // candidates of "extremes" groups whose bound is within 2^-10 of the error
  int64_t proving = 0;  // candidates whose bound is at least half their error
  int64_t total = 0;
  uint64_t seed = 4100;
  for (const SumDtype dtype : {SumDtype::Float32, SumDtype::Float16, SumDtype::BFloat16}) {
    for (const bool error_in_fp32 : {true, false}) {
      if (dtype == SumDtype::Float32 && !error_in_fp32) continue;  // the same search
      for (const int num_bits : {4, 8}) {
        for (const bool symmetric : {true, false}) {
          for (const double norm : {0.5, 1.0, 2.0, 3.0}) {
            for (const bool weighted : {false, true}) {
              const ClampBoundCase c{dtype, error_in_fp32, num_bits, symmetric, norm};
              for (const std::string kind : {"random", "extremes"}) {
                const at::Tensor values = group_values(kind, kRows, dtype, seed++);
                const at::Tensor importance =
                    (at::rand({kRows, kGroup}).pow(4) * 4 + 1e-3).contiguous();
                for (int64_t row = 0; row < kRows; ++row) {
                  float bounds[kCandidates];
                  float errors[kCandidates];
                  llmc::test::replay_clamp_bounds(
                      c, values[row].data_ptr<float>(),
                      weighted ? importance[row].data_ptr<float>() : nullptr, kGroup,
                      kCandidates, kGrid, bounds, errors);
                  for (int64_t i = 0; i < kCandidates; ++i) {
                    ++total;
                    if (!(bounds[i] <= errors[i])) {
                      failures.push_back(describe(c, weighted) + " " + kind + " row " +
                                         std::to_string(row) + " candidate " + std::to_string(i) +
                                         ": bound " + std::to_string(bounds[i]) + " > error " +
                                         std::to_string(errors[i]));
                    }
                    if (bounds[i] >= 0.5f * errors[i] && errors[i] > 0.0f) ++proving;
                    if (kind == "extremes" && bounds[i] >= errors[i] * (1.0f - 0x1p-10f) &&
                        errors[i] > 0.0f) {
                      ++tight;
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  for (size_t f = 0; f < failures.size() && f < 20; ++f) UNSCOPED_INFO(failures[f]);
  CHECK(failures.empty());
  INFO(proving << " of " << total << " bounds are at least half the error, " << tight
               << " tight");
  // The bound must prove something: most candidates past p ~ 0.9 clamp the extremes.
  CHECK(proving > total / 4);
  CHECK(tight > total / 64);
}
