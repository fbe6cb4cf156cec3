// Observers against llm-compressor itself (tests/oracle/observers.py): min/max after every
// observation, then scale / zero_point / global_scale, all bit-identical.
#include <llmc/observers/fusion.hpp>
#include <llmc/observers/observer.hpp>
#include <sstream>
#include <vector>

#include "support/catch.hpp"
#include "support/mismatches.hpp"
#include "support/oracle.hpp"

namespace {

using llmc::test::Oracle;

using llmc::test::Mismatches;

void check_qparams(const Oracle& oracle, const nlohmann::json& c, const llmc::QParams& q,
                   const std::string& suffix, Mismatches& m) {
  const std::string id = c.at("id").get<std::string>();
  m.check(q.scale, oracle.tensor(c, "scale" + suffix), id + " scale" + suffix);
  m.check(q.zero_point, oracle.tensor(c, "zero_point" + suffix), id + " zero_point" + suffix);
  const bool expect_global = oracle.has_tensor(c, "global_scale" + suffix);
  if (expect_global != q.global_scale.has_value()) {
    m.fail(id + " global_scale" + suffix + " presence differs");
  } else if (expect_global) {
    m.check(*q.global_scale, oracle.tensor(c, "global_scale" + suffix), id + " global_scale");
  }
}

void run_sequence_case(const Oracle& oracle, const nlohmann::json& c, Mismatches& m) {
  const std::string id = c.at("id").get<std::string>();
  const auto args = llmc::QuantizationArgs::from_json(c.at("args"));
  auto observer = llmc::load_observer(c.at("observer").get<std::string>(),
                                      c.at("base_name").get<std::string>(), args);
  const int64_t n = c.at("observations").get<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const std::string index = std::to_string(i);
    (*observer)(oracle.tensor(c, "x" + index));
    const auto stats = observer->get_statistics();
    m.check(stats.at("min_vals"), oracle.tensor(c, "min" + index), id + " min" + index);
    m.check(stats.at("max_vals"), oracle.tensor(c, "max" + index), id + " max" + index);
  }
  check_qparams(oracle, c, observer->get_qparams(), "", m);
  if (observer->has_statistics()) m.fail(id + ": statistics survive get_qparams");
}

void run_cases_with_prefix(const std::string& prefix) {
  const Oracle& oracle = Oracle::get("observers");
  Mismatches m;
  int64_t cases = 0;
  for (const auto& c : oracle.cases()) {
    const std::string id = c.at("id").get<std::string>();
    if (id.rfind(prefix, 0) != 0) continue;
    ++cases;
    try {
      run_sequence_case(oracle, c, m);
    } catch (const std::exception& e) {
      m.fail(id + ": threw " + e.what());
    }
  }
  INFO(prefix << ": " << cases << " cases; " << m.summary());
  REQUIRE(cases > 0);
  CHECK(m.lines.empty());
}

}  // namespace

TEST_CASE("memoryless_minmax matches llm-compressor bit for bit on weights") {
  run_cases_with_prefix("w.memoryless_minmax.");
}
TEST_CASE("static_minmax matches llm-compressor bit for bit on weights") {
  run_cases_with_prefix("w.static_minmax.");
}
TEST_CASE("minmax matches llm-compressor bit for bit on weights") {
  run_cases_with_prefix("w.minmax.");
}
TEST_CASE("memoryless_mse matches llm-compressor bit for bit on weights and kwargs") {
  run_cases_with_prefix("w.memoryless_mse.");
}
TEST_CASE("mse matches llm-compressor bit for bit on weights and kwargs") {
  run_cases_with_prefix("w.mse.");
}
TEST_CASE("nvfp4_expanded_mse matches llm-compressor bit for bit on weights") {
  run_cases_with_prefix("w.nvfp4_expanded_mse.");
}
TEST_CASE("fouroversix matches llm-compressor bit for bit on weights") {
  run_cases_with_prefix("w.fouroversix.");
}
TEST_CASE("activation observers match llm-compressor over a sequence of observations") {
  run_cases_with_prefix("a.");
}
TEST_CASE("attention observers match llm-compressor over a sequence of observations") {
  run_cases_with_prefix("k.");
}

TEST_CASE("fused q/k/v NVFP4 observers match llm-compressor's shared global scale") {
  const Oracle& oracle = Oracle::get("observers");
  Mismatches m;
  int64_t cases = 0;
  for (const auto& c : oracle.cases()) {
    const std::string id = c.at("id").get<std::string>();
    if (id.rfind("fused.", 0) != 0) continue;
    ++cases;
    const auto args = llmc::QuantizationArgs::from_json(c.at("args"));
    const std::string name = c.at("observer").get<std::string>();
    std::vector<at::Tensor> weights;
    std::vector<std::unique_ptr<llmc::Observer>> observers;
    std::vector<llmc::FusionGroup::Member> members;
    for (int j = 0; j < 3; ++j) {
      weights.push_back(oracle.tensor(c, "w" + std::to_string(j)));
      observers.push_back(llmc::load_observer(name, "weight", args));
    }
    const char* names[] = {"q_proj", "k_proj", "v_proj"};
    for (int j = 0; j < 3; ++j) {
      llmc::Observer* obs = observers[j].get();
      const at::Tensor w = weights[j];
      members.push_back({names[j], obs, [obs, w] { (*obs)(w); }});
    }
    llmc::FusionGroup::link(members);
    (*observers[0])(weights[0]);
    std::vector<bool> observed;
    for (int j = 0; j < 3; ++j) {
      observed.push_back(observers[j]->has_statistics());
      const auto stats = observers[j]->get_statistics();
      const std::string js = std::to_string(j);
      m.check(stats.at("min_vals"), oracle.tensor(c, "min" + js), id + " min" + js);
      m.check(stats.at("max_vals"), oracle.tensor(c, "max" + js), id + " max" + js);
    }
    if (nlohmann::json(observed) != c.at("observed_after_first")) m.fail(id + ": lazy observation");
    for (int j = 0; j < 3; ++j) {
      check_qparams(oracle, c, observers[j]->get_qparams(), std::to_string(j), m);
      std::vector<bool> has;
      for (const auto& o : observers) has.push_back(o->has_statistics());
      if (nlohmann::json(has) != c.at("has_stats_after_get_qparams").at(j)) {
        m.fail(id + ": statistics after get_qparams " + std::to_string(j));
      }
    }
  }
  INFO(cases << " fused cases; " << m.summary());
  REQUIRE(cases > 0);
  CHECK(m.lines.empty());
}
