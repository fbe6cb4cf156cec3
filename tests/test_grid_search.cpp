// The shared grid search (LC reference §5.3, §5.4): candidate counts, patience semantics,
// importance weighting, and llm-compressor's imatrix loop bit for bit (tests/oracle/observers.py
// "g." cases call upstream's imatrix.py::_grid_search directly).
#include <llmc/observers/grid_search.hpp>
#include <llmc/observers/helpers.hpp>
#include <sstream>

#include "support/catch.hpp"
#include "support/oracle.hpp"

using llmc::GridSearchOptions;
using llmc::QuantizationArgs;
using llmc::QuantizationStrategy;

namespace {

QuantizationArgs int4_channel() {
  return QuantizationArgs().num_bits(4).strategy(QuantizationStrategy::Channel).validated();
}

// One row [0.3, 1.0], int4 symmetric per channel: with all weight on the 0.3 element the best
// range is p = 0.75 (0.3 / (0.75 / 7.5) = 3 exactly), reached only after candidates that are
// worse than p = 1 (p = 0.99 rounds 0.3 to 2 steps of a smaller scale).
at::Tensor skewed_row() { return at::tensor({0.3f, 1.0f}).reshape({1, 1, 1, 2}); }

}  // namespace

TEST_CASE("grid search candidate counts follow mse and imatrix loop bounds") {
  CHECK(GridSearchOptions::mse().num_candidates() == 20);
  CHECK(GridSearchOptions::imatrix().num_candidates() == 20);  // int(0.95 * 20) = 19, inclusive
  CHECK(GridSearchOptions::mse().maxshrink(0.0).num_candidates() == 0);
  CHECK(GridSearchOptions::imatrix().maxshrink(0.0).num_candidates() == 2);  // max(1, 0) + 1
  CHECK(GridSearchOptions().maxshrink(1.0 - 0.8 / 1.8).grid(200).num_candidates() == 111);
  CHECK(GridSearchOptions().shrink_factor(19) == 1.0 - 19.0 / 100.0);
}

TEST_CASE("importance weighting steers the range towards the important columns") {
  const auto args = int4_channel();
  const auto options = GridSearchOptions::imatrix().maxshrink(0.3).grid(100).patience(0);
  const at::Tensor importance = at::tensor({1.0f, 0.0f}).reshape({1, 1, 1, 2});
  const auto [weighted_min, weighted_max] =
      llmc::grid_search_mse(skewed_row(), args, options, importance);
  CHECK(weighted_max.item<float>() == 0.75f);
  const auto [uniform_min, uniform_max] = llmc::grid_search_mse(skewed_row(), args, options);
  CHECK(uniform_max.item<float>() != 0.75f);
}

TEST_CASE("patience 0 stops at the first miss for mse and never for imatrix") {
  const auto args = int4_channel();
  const at::Tensor importance = at::tensor({1.0f, 0.0f}).reshape({1, 1, 1, 2});
  const auto never = GridSearchOptions::imatrix().maxshrink(0.3).grid(100).patience(0);
  const auto first_miss = GridSearchOptions(never).patience_zero_means_never(false);
  CHECK(llmc::grid_search_mse(skewed_row(), args, never, importance).second.item<float>() == 0.75f);
  CHECK(llmc::grid_search_mse(skewed_row(), args, first_miss, importance).second.item<float>() ==
        1.0f);
  const auto patient = GridSearchOptions(first_miss).patience(30);
  CHECK(llmc::grid_search_mse(skewed_row(), args, patient, importance).second.item<float>() ==
        0.75f);
}

TEST_CASE("grid search keeps the observed dtype and the qparam shape") {
  const auto args = QuantizationArgs()
                        .num_bits(4)
                        .strategy(QuantizationStrategy::Group)
                        .group_size(8)
                        .validated();
  at::manual_seed(7);
  at::Tensor weight = at::randn({4, 32});
  weight[1].slice(0, 8, 16) = -weight[1].slice(0, 8, 16).abs() - 0.1;  // an all-negative group
  weight = weight.to(at::kBFloat16);
  const auto observed = llmc::flatten_for_calibration(weight, "weight", args);
  const auto [mn, mx] = llmc::grid_search_mse(observed, args, GridSearchOptions::mse());
  CHECK(mn.scalar_type() == at::kBFloat16);
  CHECK((mx.sizes() == at::IntArrayRef({4, 4})));
  // Candidates shrink the observed bounds towards zero (p in (0, 1]): an all-negative group's
  // max moves up, towards 0, so the bound is |mx| <= |amax| with the sign kept.
  const at::Tensor amax = observed.amax({0, -1});
  const at::Tensor amin = observed.amin({0, -1});
  CHECK((mx.abs() <= amax.abs()).all().item<bool>());
  CHECK((mx * amax >= 0).all().item<bool>());
  CHECK((mn.abs() <= amin.abs()).all().item<bool>());
  CHECK((mn * amin >= 0).all().item<bool>());
  CHECK(amax[1][1].item<float>() < 0.0f);
}

TEST_CASE("imatrix grid search loop matches llm-compressor bit for bit") {
  const auto& oracle = llmc::test::Oracle::get("observers");
  int64_t cases = 0;
  std::vector<std::string> mismatches;
  for (const auto& c : oracle.cases()) {
    const std::string id = c.at("id").get<std::string>();
    if (id.rfind("g.", 0) != 0) continue;
    ++cases;
    const auto args = QuantizationArgs::from_json(c.at("args"));
    const auto& s = c.at("search");
    const auto options = GridSearchOptions::imatrix()
                             .maxshrink(s.at("maxshrink").get<double>())
                             .patience(s.at("patience").get<int64_t>())
                             .grid(s.at("grid").get<double>())
                             .norm(s.at("norm").get<double>())
                             .expand(s.at("expand").get<double>());
    std::optional<at::Tensor> importance;
    if (oracle.has_tensor(c, "importance")) importance = oracle.tensor(c, "importance");
    const auto [mn, mx] =
        llmc::grid_search_mse(oracle.tensor(c, "observed"), args, options, importance);
    std::string why;
    if (!llmc::test::bit_equal(mn, oracle.tensor(c, "min"), &why)) {
      mismatches.push_back(id + " min: " + why);
    }
    if (!llmc::test::bit_equal(mx, oracle.tensor(c, "max"), &why)) {
      mismatches.push_back(id + " max: " + why);
    }
  }
  std::ostringstream summary;
  for (size_t i = 0; i < mismatches.size() && i < 20; ++i) summary << "\n  " << mismatches[i];
  INFO(cases << " cases, " << mismatches.size() << " mismatches" << summary.str());
  REQUIRE(cases > 0);
  CHECK(mismatches.empty());
}
