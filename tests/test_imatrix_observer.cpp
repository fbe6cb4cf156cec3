// IMatrixMSEObserver on its own: upstream's tests/llmcompressor/observers/test_imatrix.py ported
// (LC §9; hook values, attach/detach, disabled hooks, strategies, fallbacks, strict errors, kwarg
// validation, statistics cleanup), llmc's additions (adopting a gatherer's sums, BLOCK weighted
// by column) and bit-exact comparisons with llm-compressor (tests/oracle/imatrix_e2e.py).
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/modules/activation.h>

#include <limits>
#include <llmc/nn/hooks.hpp>
#include <llmc/nn/linear.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/observers/registry.hpp>
#include <sstream>

#include "support/catch.hpp"
#include "support/error_of.hpp"
#include "support/oracle.hpp"
#include "support/quant_case.hpp"

using llmc::IMatrixMSEObserver;
using llmc::QuantizationArgs;
using llmc::QuantizationStrategy;
using llmc::test::error_of;
using llmc::test::Oracle;
using Json = nlohmann::json;

namespace {

QuantizationArgs int4(QuantizationStrategy strategy, std::optional<int64_t> group_size = {}) {
  auto args =
      QuantizationArgs().num_bits(4).symmetric(true).strategy(strategy).group_size(group_size);
  if (strategy == QuantizationStrategy::Block) args.block_structure(std::vector<int64_t>{2, 4});
  return args.observer("imatrix_mse").validated();
}

QuantizationArgs nvfp4(int64_t group_size) {
  return QuantizationArgs()
      .num_bits(4)
      .type(llmc::QuantizationType::Float)
      .strategy(QuantizationStrategy::TensorGroup)
      .group_size(group_size)
      .scale_dtype(at::kFloat8_e4m3fn)
      .observer("imatrix_mse")
      .validated();
}

std::unique_ptr<IMatrixMSEObserver> imatrix(const QuantizationArgs& args,
                                            const Json& kwargs = Json::object(),
                                            const std::string& base_name = "weight") {
  auto observer = llmc::load_observer("imatrix_mse", base_name, args, kwargs);
  auto* typed = dynamic_cast<IMatrixMSEObserver*>(observer.get());
  REQUIRE(typed != nullptr);
  observer.release();
  return std::unique_ptr<IMatrixMSEObserver>(typed);
}

// upstream _set_importance: the raw accumulators such that importance = sum / count.
void set_importance(llmc::Observer& observer, const at::Tensor& sum, int64_t count = 1) {
  observer.statistics()[llmc::kIMatrixSum] = sum.clone();
  observer.statistics()[llmc::kIMatrixCount] = at::scalar_tensor(count, at::kLong);
}

// upstream _make_importance: 10 on the first half of the columns, 1 on the rest.
at::Tensor half_important(int64_t columns) {
  at::Tensor importance = at::ones({columns});
  importance.slice(0, 0, columns / 2).fill_(10.0);
  return importance;
}

llmc::nn::Linear seeded_linear(int64_t in, int64_t out, uint64_t seed = 42) {
  torch::manual_seed(seed);
  return llmc::nn::Linear(in, out);
}

// upstream's hook input: ones(2, 3, 8) with the first channel 2.
at::Tensor hook_input() {
  at::Tensor x = at::ones({2, 3, 8});
  x.select(-1, 0).fill_(2.0);
  return x;
}

at::Tensor importance_sum(const llmc::Observer& observer) {
  return observer.statistics().at(llmc::kIMatrixSum);
}
int64_t token_count(const llmc::Observer& observer) {
  return observer.statistics().at(llmc::kIMatrixCount).item<int64_t>();
}

const Oracle& oracle() { return Oracle::get("imatrix_e2e"); }

const Json& case_by_id(const std::string& id) {
  for (const auto& c : oracle().cases()) {
    if (c.at("id") == id) return c;
  }
  throw std::runtime_error("imatrix_e2e oracle has no case " + id);
}

// The qparams of observing `weight` once with `observer`.
llmc::QParams observe(llmc::Observer& observer, const at::Tensor& weight) {
  return observer(weight).get_qparams();
}

bool same_qparams(const llmc::QParams& a, const llmc::QParams& b) {
  return llmc::test::bit_equal(a.scale, b.scale) &&
         llmc::test::bit_equal(a.zero_point, b.zero_point);
}

}  // namespace

TEST_CASE("attach hooks a Linear: ones(2,3,8) with x[...,0]=2 gives count 6, sum [24,6,...,6]") {
  auto fc = seeded_linear(8, 4);
  auto obs = imatrix(int4(QuantizationStrategy::Channel));
  obs->attach(*fc);
  CHECK(obs->hooked());
  CHECK(fc->num_forward_pre_hooks() == 1);
  fc(hook_input());
  CHECK(token_count(*obs) == 6);
  CHECK(at::equal(importance_sum(*obs), at::tensor({24.f, 6.f, 6.f, 6.f, 6.f, 6.f, 6.f, 6.f})));
  CHECK(fc->attributes.empty());  // accumulated on the observer, not the module
}

TEST_CASE("attach starts fp32 zeros of in_features and an int64 count on the weight's device") {
  auto fc = seeded_linear(8, 4);
  fc->to(at::kBFloat16);
  auto obs = imatrix(int4(QuantizationStrategy::Channel));
  obs->attach(*fc);
  const at::Tensor sum = importance_sum(*obs);
  const at::Tensor count = obs->statistics().at(llmc::kIMatrixCount);
  CHECK(sum.scalar_type() == at::kFloat);
  CHECK((sum.sizes() == at::IntArrayRef({8})));
  CHECK(sum.device() == fc->weight.device());
  CHECK(at::equal(sum, at::zeros({8})));
  CHECK(count.scalar_type() == at::kLong);
  CHECK(count.dim() == 0);
  CHECK(count.item<int64_t>() == 0);
}

TEST_CASE("accumulate sums x² in fp32 over every leading dim and counts their product as tokens") {
  auto obs = imatrix(int4(QuantizationStrategy::Channel));
  obs->attach(*seeded_linear(8, 4));
  obs->accumulate(hook_input().to(at::kBFloat16));
  obs->accumulate(at::full({5, 8}, 3.0));
  CHECK(token_count(*obs) == 11);
  CHECK(importance_sum(*obs).scalar_type() == at::kFloat);
  CHECK(at::equal(importance_sum(*obs),
                  at::tensor({24.f + 45.f, 51.f, 51.f, 51.f, 51.f, 51.f, 51.f, 51.f})));
}

TEST_CASE("detach removes the hook and stops accumulation") {
  auto fc = seeded_linear(8, 4);
  auto obs = imatrix(int4(QuantizationStrategy::Channel));
  obs->attach(*fc);
  fc(at::ones({2, 3, 8}));
  const at::Tensor before = importance_sum(*obs).clone();
  obs->detach(*fc);
  CHECK_FALSE(obs->hooked());
  CHECK(fc->num_forward_pre_hooks() == 0);
  fc(at::full({2, 3, 8}, 100.0));
  CHECK(at::equal(importance_sum(*obs), before));
  CHECK(token_count(*obs) == 6);
}

TEST_CASE("attaching again replaces the hook; attaching to a module without in_features drops it") {
  auto fc = seeded_linear(8, 4);
  auto obs = imatrix(int4(QuantizationStrategy::Channel));
  obs->attach(*fc);
  obs->attach(*fc);
  CHECK(fc->num_forward_pre_hooks() == 1);
  torch::nn::ReLU relu;
  obs->attach(*relu);
  CHECK_FALSE(obs->hooked());
  CHECK(fc->num_forward_pre_hooks() == 0);
}

TEST_CASE("the hook is skipped inside DisableHooks and resumes after it") {
  auto fc = seeded_linear(8, 4);
  auto obs = imatrix(int4(QuantizationStrategy::Channel));
  obs->attach(*fc);
  fc(hook_input());
  {
    llmc::nn::DisableHooks off;
    fc(hook_input());
    CHECK(token_count(*obs) == 6);
  }
  fc(hook_input());
  CHECK(token_count(*obs) == 12);
  CHECK(at::equal(importance_sum(*obs),
                  at::tensor({48.f, 12.f, 12.f, 12.f, 12.f, 12.f, 12.f, 12.f})));
}

TEST_CASE("attach adopts the _imatrix_sum/_imatrix_count a gatherer left on the module, no hook") {
  auto fc = seeded_linear(8, 4);
  const at::Tensor sum = at::arange(8, at::kFloat);
  fc->attributes[llmc::kIMatrixSum] = sum.clone();
  fc->attributes[llmc::kIMatrixCount] = at::scalar_tensor(3, at::kLong);
  auto obs = imatrix(int4(QuantizationStrategy::Channel));
  obs->attach(*fc);
  CHECK_FALSE(obs->hooked());
  CHECK(fc->num_forward_pre_hooks() == 0);
  CHECK(fc->attributes.empty());  // moved, not copied
  fc(hook_input());               // nothing accumulates without a hook
  CHECK(at::equal(importance_sum(*obs), sum));
  CHECK(token_count(*obs) == 3);
  (*obs)(fc->weight);
  CHECK_FALSE(obs->fallback_reason().has_value());
}

TEST_CASE("TENSOR_GROUP imatrix_mse yields a finite (1,) global scale") {
  auto fc = seeded_linear(8, 4);
  auto obs = imatrix(nvfp4(4));
  set_importance(*obs, half_important(8));
  const auto q = observe(*obs, fc->weight.detach());
  REQUIRE(q.global_scale.has_value());
  CHECK((q.global_scale->sizes() == at::IntArrayRef({1})));
  CHECK(at::isfinite(*q.global_scale).all().item<bool>());
  CHECK(at::isfinite(q.scale.to(at::kFloat)).all().item<bool>());
}

TEST_CASE("CHANNEL scales are (rows, 1); GROUP, TENSOR_GROUP and BLOCK scales are finite") {
  const at::Tensor weight = seeded_linear(8, 4)->weight.detach();
  auto channel = imatrix(int4(QuantizationStrategy::Channel));
  set_importance(*channel, half_important(8));
  const auto q = observe(*channel, weight);
  CHECK((q.scale.sizes() == at::IntArrayRef({4, 1})));
  CHECK(at::isfinite(q.scale).all().item<bool>());
  for (const auto& args :
       {int4(QuantizationStrategy::Group, 4), nvfp4(4), int4(QuantizationStrategy::Block)}) {
    INFO(args);
    auto obs = imatrix(args);
    set_importance(*obs, half_important(8));
    CHECK(at::isfinite(observe(*obs, weight).scale.to(at::kFloat)).all().item<bool>());
    CHECK_FALSE(obs->fallback_reason().has_value());
  }
}

TEST_CASE("missing importance falls back to the unweighted search and says why") {
  const at::Tensor weight = seeded_linear(8, 4)->weight.detach();
  auto attached = imatrix(int4(QuantizationStrategy::Channel));
  attached->attach(*seeded_linear(8, 4));  // hooked, but no forward: count 0
  const auto fallback = observe(*attached, weight);
  REQUIRE(attached->fallback_reason().has_value());
  CHECK_THAT(*attached->fallback_reason(), Catch::Contains("no importance"));

  auto never_attached = imatrix(int4(QuantizationStrategy::Channel));
  CHECK(same_qparams(observe(*never_attached, weight), fallback));
  CHECK(never_attached->fallback_reason().has_value());

  // All-equal importance weighs every error by exactly 1: the same search.
  auto uniform = imatrix(int4(QuantizationStrategy::Channel));
  set_importance(*uniform, at::full({8}, 5.0), 5);
  CHECK(same_qparams(observe(*uniform, weight), fallback));
  CHECK_FALSE(uniform->fallback_reason().has_value());
}

TEST_CASE("skewed importance (1000 vs 0.01) changes the scales, as llm-compressor's do") {
  const Json& c = case_by_id("upstream.skewed");
  const at::Tensor weight = oracle().tensor(c, "weight");
  auto weighted = imatrix(int4(QuantizationStrategy::Channel));
  set_importance(*weighted, oracle().tensor(c, "importance"));
  const auto q = observe(*weighted, weight);
  auto unweighted = imatrix(int4(QuantizationStrategy::Channel));
  const auto u = observe(*unweighted, weight);
  LLMC_CHECK_BIT_EQUAL(q.scale, oracle().tensor(c, "scale"), "weighted scale");
  LLMC_CHECK_BIT_EQUAL(u.scale, oracle().tensor(c, "reference_scale"), "unweighted scale");
  CHECK_FALSE(at::allclose(q.scale, u.scale));
}

TEST_CASE(
    "all-ones importance with maxshrink 0.2, norm 2.4, grid 20 equals memoryless_mse(grid=20)") {
  const Json& c = case_by_id("upstream.ones_mse_like");
  const at::Tensor weight = oracle().tensor(c, "weight");
  auto obs = imatrix(int4(QuantizationStrategy::Channel), c.at("observer_kwargs"));
  set_importance(*obs, at::ones({8}));
  const auto q = observe(*obs, weight);
  auto mse = llmc::load_observer("memoryless_mse", "weight",
                                 int4(QuantizationStrategy::Channel).observer("memoryless_mse"),
                                 {{"grid", 20}});
  const auto u = observe(*mse, weight);
  CHECK(at::allclose(q.scale, u.scale));
  CHECK(at::equal(q.zero_point, u.zero_point));
  LLMC_CHECK_BIT_EQUAL(q.scale, oracle().tensor(c, "scale"), "imatrix scale");
  LLMC_CHECK_BIT_EQUAL(u.scale, oracle().tensor(c, "reference_scale"), "memoryless_mse scale");
}

TEST_CASE("NaN, negative or all-zero importance falls back and matches upstream's uniform MSE") {
  for (const char* label : {"upstream.nan", "upstream.negative", "upstream.zeros"}) {
    INFO(label);
    const Json& c = case_by_id(label);
    const at::Tensor weight = oracle().tensor(c, "weight");
    auto obs = imatrix(int4(QuantizationStrategy::Channel));
    set_importance(*obs, oracle().tensor(c, "importance"));
    const auto q = observe(*obs, weight);
    CHECK(obs->fallback_reason().has_value());
    LLMC_CHECK_BIT_EQUAL(q.scale, oracle().tensor(c, "scale"), "scale");
    LLMC_CHECK_BIT_EQUAL(q.zero_point, oracle().tensor(c, "zero_point"), "zero point");
    CHECK(at::allclose(q.scale, oracle().tensor(c, "reference_scale")));
  }
}

TEST_CASE("strict mode turns every fallback into an error naming the problem") {
  const at::Tensor weight = seeded_linear(8, 4)->weight.detach();
  const Json strict = {{"strict", true}};
  auto error_with = [&](const QuantizationArgs& args, std::optional<at::Tensor> importance,
                        const std::string& base_name = "weight") {
    auto obs = imatrix(args, strict, base_name);
    if (importance) set_importance(*obs, *importance);
    const at::Tensor observed = base_name == "weight" ? weight : at::randn({2, 1, 8});
    return error_of([&] { observe(*obs, observed); });
  };
  const auto channel = int4(QuantizationStrategy::Channel);
  auto nan = at::ones({8});
  nan[1] = std::numeric_limits<float>::quiet_NaN();
  auto negative = at::ones({8});
  negative[1] = -1.0;
  CHECK_THAT(error_with(int4(QuantizationStrategy::Tensor).num_bits(8), std::nullopt, "input"),
             Catch::Contains("weight observers"));
  CHECK_THAT(error_with(channel, std::nullopt), Catch::Contains("no importance"));
  CHECK_THAT(error_with(channel, at::ones({5})),
             Catch::Contains("size mismatch: expected 8, got 5"));
  CHECK_THAT(error_with(channel, nan), Catch::Contains("non-finite"));
  CHECK_THAT(error_with(channel, negative), Catch::Contains("negative"));
  CHECK_THAT(error_with(channel, at::zeros({8})), Catch::Contains("all zeros"));
  CHECK_THAT(error_with(int4(QuantizationStrategy::Tensor), at::ones({8})),
             Catch::Contains("TENSOR strategy"));
}

TEST_CASE("non-strict fallbacks for inputs and TENSOR still give finite qparams") {
  auto input =
      imatrix(int4(QuantizationStrategy::Tensor).num_bits(8), {{"strict", false}}, "input");
  const auto q = observe(*input, at::randn({2, 1, 8}));
  CHECK(at::isfinite(q.scale).all().item<bool>());
  CHECK(input->fallback_reason().has_value());
  auto tensor = imatrix(int4(QuantizationStrategy::Tensor));
  set_importance(*tensor, at::ones({8}));
  CHECK(at::isfinite(observe(*tensor, seeded_linear(8, 4)->weight.detach()).scale)
            .all()
            .item<bool>());
  CHECK(tensor->fallback_reason().has_value());
}

TEST_CASE(
    "imatrix_mse rejects bad kwargs: norm 0/-1/inf/nan, grid 0, patience -1, maxshrink 1.5, "
    "unknown keys, non-bool strict") {
  const auto args = int4(QuantizationStrategy::Channel);
  auto error_for = [&](const Json& kwargs) {
    return error_of([&] { llmc::load_observer("imatrix_mse", "weight", args, kwargs); });
  };
  for (double norm : {0.0, -1.0, std::numeric_limits<double>::infinity(),
                      std::numeric_limits<double>::quiet_NaN()}) {
    INFO("norm " << norm);
    CHECK_THAT(error_for({{"norm", norm}}),
               Catch::Contains("observer_kwargs.norm") &&
                   Catch::Contains("norm must be a finite positive number"));
  }
  CHECK_THAT(error_for({{"grid", 0}}), Catch::Contains("observer_kwargs.grid"));
  CHECK_THAT(error_for({{"patience", -1}}), Catch::Contains("observer_kwargs.patience"));
  CHECK_THAT(error_for({{"maxshrink", 1.5}}), Catch::Contains("observer_kwargs.maxshrink"));
  CHECK_THAT(error_for({{"chunk_size", 5}}),
             Catch::Contains("unknown observer_kwargs key 'chunk_size'"));
  CHECK_THAT(error_for({{"strict", "yes"}}), Catch::Contains("observer_kwargs.strict"));
  CHECK_THAT(
      error_of([&] {
        llmc::load_observer("nvfp4_expanded_imatrix", "weight", nvfp4(16), {{"grid", 0}});
      }),
      Catch::Contains("'nvfp4_expanded_imatrix'") && Catch::Contains("observer_kwargs.grid"));
}

TEST_CASE("imatrix_mse and nvfp4_expanded_imatrix have upstream's defaults and registry names") {
  auto obs = llmc::load_observer("IMatrix-MSE", "weight", int4(QuantizationStrategy::Channel));
  CHECK(obs->name() == "imatrix_mse");
  const auto& options = dynamic_cast<IMatrixMSEObserver&>(*obs).options();
  CHECK(options == llmc::IMatrixMSEOptions());
  CHECK(options.maxshrink() == 0.95);
  CHECK(options.patience() == 5);
  CHECK(options.grid() == 20.0);
  CHECK(options.norm() == 3.0);
  CHECK_FALSE(options.strict());
  CHECK(options.expand() == 1.0);
  CHECK(options.grid_search().num_candidates() == 20);  // p = 1.00, 0.95, ..., 0.05

  auto expanded = llmc::load_observer("nvfp4_expanded_imatrix", "weight", nvfp4(16));
  CHECK(expanded->name() == "nvfp4_expanded_imatrix");
  const auto& e = dynamic_cast<IMatrixMSEObserver&>(*expanded).options();
  CHECK(e.expand() == 1.8);
  CHECK(e.maxshrink() == 1.0 - 0.8 / 1.8);
  CHECK(e.grid() == 200.0);
  CHECK(e.norm() == 2.4);
  CHECK(e.patience() == 1000);
  CHECK(e.grid_search().num_candidates() == 112);
  auto tuned = llmc::load_observer("nvfp4_expanded_imatrix", "weight", nvfp4(16), {{"grid", 100}});
  CHECK(dynamic_cast<IMatrixMSEObserver&>(*tuned).options().grid() == 100.0);
  CHECK(dynamic_cast<IMatrixMSEObserver&>(*tuned).options().expand() == 1.8);
}

TEST_CASE("get_qparams deletes every statistic, the importance included") {
  auto fc = seeded_linear(8, 4);
  auto obs = imatrix(int4(QuantizationStrategy::Channel));
  obs->attach(*fc);
  fc(hook_input());
  obs->detach(*fc);
  (*obs)(fc->weight.detach());
  CHECK(obs->has_statistics());
  for (const char* name : {"min_vals", "max_vals", llmc::kIMatrixSum, llmc::kIMatrixCount}) {
    CHECK(obs->statistics().count(name) == 1);
  }
  obs->get_qparams();
  CHECK_FALSE(obs->has_statistics());
  CHECK(obs->statistics().empty());
}

TEST_CASE("the accumulators are _imatrix_sum and _imatrix_count, summed across ranks") {
  auto obs = imatrix(int4(QuantizationStrategy::Channel));
  using Acc = std::vector<std::pair<std::string, llmc::ReduceOp>>;
  CHECK(obs->accumulators() ==
        Acc{{"_imatrix_sum", llmc::ReduceOp::Sum}, {"_imatrix_count", llmc::ReduceOp::Sum}});
}

TEST_CASE(
    "prepare_importance mean-normalises and lays each column's importance out like the "
    "weight") {
  const at::Tensor importance = at::arange(1, 9, at::kFloat);  // mean 4.5
  const at::Tensor normalised = importance / 4.5;
  const auto channel =
      llmc::prepare_importance(importance, {3, 8}, int4(QuantizationStrategy::Channel));
  CHECK((channel.sizes() == at::IntArrayRef({1, 3, 1, 8})));
  CHECK(at::allclose(channel[0][2][0], normalised));
  const auto group =
      llmc::prepare_importance(importance, {3, 8}, int4(QuantizationStrategy::Group, 4));
  CHECK((group.sizes() == at::IntArrayRef({1, 3, 2, 4})));
  CHECK(at::allclose(group[0][1][1], normalised.slice(0, 4, 8)));
  CHECK(group.scalar_type() == at::kFloat);
}

TEST_CASE("BLOCK importance weighs each block element by its column and zero on the padding") {
  // (3, 6) weight, [2, 4] blocks: padded to (4, 8), flattened to (1, 2, 2, 8) row-major blocks.
  const at::Tensor importance = at::arange(1, 7, at::kFloat);  // mean 3.5
  const auto block =
      llmc::prepare_importance(importance, {3, 6}, int4(QuantizationStrategy::Block));
  REQUIRE((block.sizes() == at::IntArrayRef({1, 2, 2, 8})));
  const at::Tensor n = importance / 3.5;
  // Block (0, 1): columns 4, 5 and two padded columns, for rows 0 and 1.
  const at::Tensor expected_01 = at::stack(
      {n[4], n[5], at::zeros({}), at::zeros({}), n[4], n[5], at::zeros({}), at::zeros({})});
  CHECK(at::allclose(block[0][0][1], expected_01));
  // Block (1, 0): row 2, then the padded row 3.
  const at::Tensor expected_10 = at::cat({n.slice(0, 0, 4), at::zeros({4})});
  CHECK(at::allclose(block[0][1][0], expected_10));
}

TEST_CASE("BLOCK strategy uses skewed importance where upstream falls back (llmc improvement)") {
  // Outliers in the unimportant columns 3 and 7: weighting lets the search clip them.
  auto gen = at::detail::createCPUGenerator(5);
  at::Tensor weight = at::randn({4, 8}, gen) * 0.1;
  weight.select(1, 3).fill_(2.0);
  weight.select(1, 7).fill_(-2.0);
  at::Tensor importance = at::full({8}, 1000.0);
  importance[3] = 0.01;
  importance[7] = 0.01;
  auto weighted = imatrix(int4(QuantizationStrategy::Block));
  set_importance(*weighted, importance);
  const auto q = observe(*weighted, weight);
  CHECK_FALSE(weighted->fallback_reason().has_value());
  auto unweighted = imatrix(int4(QuantizationStrategy::Block));
  const auto u = observe(*unweighted, weight);
  CHECK((q.scale.sizes() == u.scale.sizes()));
  CHECK((q.scale < u.scale).all().item<bool>());
}

TEST_CASE("imatrix_mse with given importance sums matches llm-compressor bit for bit") {
  std::vector<std::string> failures;
  int64_t cases = 0;
  for (const auto& c : oracle().cases()) {
    const std::string id = c.at("id").get<std::string>();
    if (id.rfind("obs.", 0) != 0) continue;
    ++cases;
    try {
      auto obs = llmc::load_observer(c.at("observer").get<std::string>(), "weight",
                                     llmc::test::args_of(c));
      if (oracle().has_tensor(c, "imatrix_sum")) {
        set_importance(*obs, oracle().tensor(c, "imatrix_sum"),
                       c.at("imatrix_count").get<int64_t>());
      }
      const auto q = observe(*obs, oracle().tensor(c, "weight"));
      std::string why;
      if (!llmc::test::bit_equal(q.scale, oracle().tensor(c, "scale"), &why)) {
        failures.push_back(id + " scale: " + why);
      }
      if (!llmc::test::bit_equal(q.zero_point, oracle().tensor(c, "zero_point"), &why)) {
        failures.push_back(id + " zero_point: " + why);
      }
      if (oracle().has_tensor(c, "global_scale") != q.global_scale.has_value()) {
        failures.push_back(id + " global_scale presence differs");
      } else if (q.global_scale && !llmc::test::bit_equal(
                                       *q.global_scale, oracle().tensor(c, "global_scale"), &why)) {
        failures.push_back(id + " global_scale: " + why);
      }
      const std::string importance = c.at("importance").get<std::string>();
      const bool weighted = importance == "skewed" || importance == "ones";
      const auto* typed = dynamic_cast<IMatrixMSEObserver*>(obs.get());
      if (typed->fallback_reason().has_value() == weighted) {
        failures.push_back(id + ": fallback_reason " + (weighted ? "set" : "missing"));
      }
    } catch (const std::exception& e) {
      failures.push_back(id + ": threw " + e.what());
    }
  }
  std::ostringstream summary;
  for (size_t i = 0; i < failures.size() && i < 25; ++i) summary << "\n  " << failures[i];
  INFO(cases << " cases, " << failures.size() << " failures" << summary.str());
  REQUIRE(cases > 0);
  CHECK(failures.empty());
}

TEST_CASE("imatrix_mse with memoryless_mse's settings equals it exactly where upstream's does") {
  int64_t cases = 0;
  for (const auto& c : oracle().cases()) {
    if (!c.contains("uniform_kwargs")) continue;
    ++cases;
    const std::string id = c.at("id").get<std::string>();
    INFO(id);
    const auto args = llmc::test::args_of(c);
    const at::Tensor weight = oracle().tensor(c, "weight");
    auto obs = llmc::load_observer(c.at("observer").get<std::string>(), "weight", args);
    set_importance(*obs, oracle().tensor(c, "imatrix_sum"), c.at("imatrix_count").get<int64_t>());
    const auto q = observe(*obs, weight);
    auto mse = llmc::load_observer(
        "memoryless_mse", "weight",
        QuantizationArgs(args).observer("memoryless_mse").observer_kwargs(c.at("uniform_kwargs")));
    const auto u = observe(*mse, weight);
    LLMC_CHECK_BIT_EQUAL(u.scale, oracle().tensor(c, "uniform.scale"), id + " uniform scale");
    // upstream's comparison: scales allclose, zero points equal
    const bool same = at::allclose(q.scale.to(at::kFloat), u.scale.to(at::kFloat)) &&
                      at::equal(q.zero_point.to(at::kFloat), u.zero_point.to(at::kFloat));
    CHECK(same == c.at("same_as_uniform").get<bool>());
  }
  CHECK(cases > 0);
}
