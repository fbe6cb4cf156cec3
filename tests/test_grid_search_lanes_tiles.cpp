// The lanes layout (groups of at most 64 values, one group per vector lane) loads a whole block
// of consecutive groups, and of their importance rows where those are consecutive too, by
// transposing tiles (S::transpose_tile); other blocks are copied element by element. These cases
// make both kinds of block occur, on both instruction sets (the AVX2 run repeats them).
#include <llmc/kernels/grid_search.hpp>
#include <llmc/observers/grid_search.hpp>
#include <llmc/observers/helpers.hpp>

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/oracle.hpp"
#include "support/thread_count.hpp"

using llmc::GridSearchBackend;
using llmc::GridSearchOptions;
using llmc::QuantizationArgs;
using llmc::QuantizationType;

TEST_CASE("fused grid search transposes whole lane blocks of values and importance") {
  // 24 and 32 importance rows per period (768 and 1024 columns in groups of 32): blocks of 16
  // groups that start at row 16 of 24 straddle the period (element copies), the others are
  // whole tiles; at 3 threads the blocks start where at::parallel_for cuts, not at multiples
  // of 16; 37 rows leave a partial last block.
  const std::vector<std::pair<std::string, QuantizationArgs>> schemes = {
      {"int4 sym g32", QuantizationArgs().num_bits(4).group_size(32).validated()},
      {"int4 asym g16", QuantizationArgs().num_bits(4).symmetric(false).group_size(16).validated()},
      {"mxfp8", QuantizationArgs()
                    .num_bits(8)
                    .type(QuantizationType::Float)
                    .group_size(32)
                    .scale_dtype(at::kByte)
                    .zp_dtype(at::kByte)
                    .validated()},
  };
  const std::vector<std::pair<std::string, GridSearchOptions>> loops = {
      {"mse", GridSearchOptions::mse()},
      {"imatrix", GridSearchOptions::imatrix()},
  };
  std::vector<std::string> failures;
  uint64_t seed = 4400;
  for (const int threads : {1, 3}) {
    const llmc::test::ThreadCount thread_count(threads);
    for (const int64_t cols : {768, 1024}) {
      for (const c10::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
        at::manual_seed(seed++);
        at::Tensor weight = at::randn({37, cols}) * 0.05;
        weight = at::where(at::rand({37, cols}) < 0.01, weight * 40, weight).to(dtype);
        const at::Tensor columns = at::rand({cols}).pow(4) + 1e-3;
        for (const auto& [scheme_name, args] : schemes) {
          const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
          for (const auto& [loop_name, options] : loops) {
            std::optional<at::Tensor> importance;
            if (loop_name == "imatrix") {
              importance = llmc::flatten_for_calibration(
                  (columns / columns.mean()).unsqueeze(0).expand({37, -1}), "weight", args);
            }
            const auto [ref_min, ref_max] = llmc::grid_search_mse(
                observed, args, GridSearchOptions(options).backend(GridSearchBackend::Reference),
                importance);
            const auto [fused_min, fused_max] =
                llmc::fused_grid_search(observed, args, options, importance);
            std::string why;
            if (!llmc::test::bit_equal(fused_min, ref_min, &why) ||
                !llmc::test::bit_equal(fused_max, ref_max, &why)) {
              failures.push_back(std::to_string(threads) + " threads, " + std::to_string(cols) +
                                 " cols, " + c10::toString(dtype) + ", " + scheme_name + ", " +
                                 loop_name + ": " + why);
            }
          }
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}
