// Fused global-scale groups (LC reference §5.7; upstream test_fusion_handler.py and
// test_fused_observers.py): shared global scale, lazy observation, cooperative deletion.
#include <ATen/CPUGeneratorImpl.h>

#include <llmc/observers/fusion.hpp>
#include <llmc/observers/observer.hpp>
#include <llmc/quant/qparams.hpp>

#include "support/catch.hpp"
#include "support/error_of.hpp"
#include "support/oracle.hpp"

using llmc::FusionGroup;
using llmc::QuantizationArgs;
using llmc::QuantizationStrategy;
using llmc::test::error_of;

namespace {

QuantizationArgs tensor_group_args() {
  return QuantizationArgs()
      .num_bits(4)
      .type(llmc::QuantizationType::Float)
      .strategy(QuantizationStrategy::TensorGroup)
      .group_size(16)
      .validated();
}

// Three q/k/v-like layers: weights, observers and a callback per member counting observations.
struct FusedLayers {
  std::vector<at::Tensor> weights;
  std::vector<std::unique_ptr<llmc::Observer>> observers;
  std::vector<int> observe_calls;
  std::shared_ptr<FusionGroup> group;

  explicit FusedLayers(const std::string& observer = "memoryless_minmax", int n = 3)
      : observe_calls(n, 0) {
    const char* names[] = {"q_proj", "k_proj", "v_proj"};
    std::vector<FusionGroup::Member> members;
    for (int j = 0; j < n; ++j) {
      auto gen = at::detail::createCPUGenerator(100 + j);
      weights.push_back(at::randn({8, 32}, gen) * (j + 1));  // v has the largest range
      observers.push_back(llmc::load_observer(observer, "weight", tensor_group_args()));
    }
    for (int j = 0; j < n; ++j) {
      members.push_back({names[j], observers[j].get(), [this, j] {
                           ++observe_calls[j];
                           (*observers[j])(weights[j]);
                         }});
    }
    group = FusionGroup::link(members);
  }
};

}  // namespace

TEST_CASE("fused layer names are upstream's FUSED_LAYER_NAMES") {
  const std::vector<std::vector<std::string>> expected = {{"gate_proj", "up_proj"},
                                                          {"q_proj", "k_proj", "v_proj"},
                                                          {"q_a_proj", "kv_a_proj_with_mqa"},
                                                          {"w1", "w3"}};
  CHECK(llmc::fused_layer_names() == expected);
}

TEST_CASE("observing one fused member lazily observes the others") {
  FusedLayers layers;
  (*layers.observers[0])(layers.weights[0]);
  for (const auto& obs : layers.observers) CHECK(obs->has_statistics());
  CHECK((layers.observe_calls == std::vector<int>{0, 1, 1}));
}

TEST_CASE("fused members share the global scale of the largest post-search range") {
  FusedLayers layers;
  at::Tensor absmax = at::zeros({}, at::kFloat);
  for (const auto& w : layers.weights) absmax = at::max(absmax, w.abs().max());
  const at::Tensor expected = llmc::generate_gparam(-absmax.reshape({1}), absmax.reshape({1}));
  (*layers.observers[1])(layers.weights[1]);
  std::vector<llmc::QParams> qparams;
  for (auto& obs : layers.observers) qparams.push_back(obs->get_qparams());
  for (size_t j = 0; j < qparams.size(); ++j) {
    REQUIRE(qparams[j].global_scale.has_value());
    LLMC_CHECK_BIT_EQUAL(*qparams[j].global_scale, expected, "member " << j);
  }
  CHECK((layers.observe_calls == std::vector<int>{1, 0, 1}));
}

TEST_CASE("fused statistics are deleted only after every member took its qparams") {
  FusedLayers layers;
  (*layers.observers[0])(layers.weights[0]);
  layers.observers[0]->get_qparams();
  CHECK(layers.observers[0]->has_statistics());
  CHECK(layers.observers[1]->has_statistics());
  layers.observers[1]->get_qparams();
  CHECK(layers.observers[2]->has_statistics());
  layers.observers[2]->get_qparams();
  for (const auto& obs : layers.observers) CHECK_FALSE(obs->has_statistics());
}

TEST_CASE("fused observers can observe again after cooperative deletion") {
  FusedLayers layers("memoryless_mse");
  (*layers.observers[2])(layers.weights[2]);
  for (auto& obs : layers.observers) obs->get_qparams();
  layers.weights[1] = layers.weights[1] * 10;  // a new weight (e.g. after GPTQ) is re-observed
  for (size_t j = 0; j < layers.observers.size(); ++j) {
    (*layers.observers[j])(layers.weights[j]);
  }
  for (const auto& obs : layers.observers) CHECK(obs->has_statistics());
  // A partial round leaves the others' statistics until the round completes.
  const auto first = layers.observers[0]->get_qparams();
  CHECK(layers.observers[1]->has_statistics());
  for (size_t j = 1; j < layers.observers.size(); ++j) {
    const auto q = layers.observers[j]->get_qparams();
    LLMC_CHECK_BIT_EQUAL(*q.global_scale, *first.global_scale, "member " << j);
  }
  for (const auto& obs : layers.observers) CHECK_FALSE(obs->has_statistics());
}

TEST_CASE("an unfused TENSOR_GROUP observer deletes its statistics immediately") {
  auto obs = llmc::load_observer("memoryless_minmax", "weight", tensor_group_args());
  (*obs)(at::randn({4, 32}));
  obs->get_qparams();
  CHECK_FALSE(obs->has_statistics());
}

TEST_CASE("linking rejects members that are not TENSOR_GROUP weight observers") {
  auto tg = llmc::load_observer("memoryless_minmax", "weight", tensor_group_args());
  auto group_args = QuantizationArgs().num_bits(4).group_size(16).validated();
  auto group = llmc::load_observer("memoryless_minmax", "weight", group_args);
  auto input = llmc::load_observer("minmax", "input", tensor_group_args());
  auto noop = [] {};
  CHECK_THAT(error_of([&] {
               FusionGroup::link({{"gate_proj", tg.get(), noop}, {"up_proj", group.get(), noop}});
             }),
             Catch::Contains("fused group (gate_proj, up_proj): up_proj has group quantization"));
  CHECK_THAT(error_of([&] {
               FusionGroup::link({{"w1", tg.get(), noop}, {"w3", input.get(), noop}});
             }),
             Catch::Contains("only weight observers"));
  CHECK_THAT(error_of([&] {
               FusionGroup::link({{"w1", tg.get(), nullptr}});
             }),
             Catch::Contains("w1 has no callback"));
}

TEST_CASE("fuse_weight_observers mirrors upstream: skip, fuse or refuse mixed groups") {
  auto tg1 = llmc::load_observer("memoryless_minmax", "weight", tensor_group_args());
  auto tg2 = llmc::load_observer("memoryless_minmax", "weight", tensor_group_args());
  auto group_args = QuantizationArgs().num_bits(4).group_size(16).validated();
  auto g1 = llmc::load_observer("memoryless_minmax", "weight", group_args);
  auto g2 = llmc::load_observer("memoryless_minmax", "weight", group_args);
  auto noop = [] {};
  CHECK((llmc::fuse_weight_observers(
             {{"gate_proj", g1.get(), noop}, {"up_proj", g2.get(), noop}}) == nullptr));
  CHECK_THAT(
      error_of([&] {
        llmc::fuse_weight_observers({{"gate_proj", tg1.get(), noop}, {"up_proj", g2.get(), noop}});
      }),
      Catch::Contains("non-TENSOR_GROUP quantization"));
  CHECK_THAT(
      error_of([&] {
        llmc::fuse_weight_observers({{"gate_proj", tg1.get(), noop}, {"up_proj", nullptr, noop}});
      }),
      Catch::Contains("no weight observer"));
  // A missing layer (v_proj = None upstream) is simply not passed.
  auto fused =
      llmc::fuse_weight_observers({{"q_proj", tg1.get(), noop}, {"k_proj", tg2.get(), noop}});
  REQUIRE(fused != nullptr);
  CHECK((fused->member_names() == std::vector<std::string>{"q_proj", "k_proj"}));
  CHECK(tg1->fusion_group() == fused);
}

TEST_CASE("a destroyed fused member leaves its group") {
  FusedLayers layers;
  layers.observers[2].reset();
  CHECK(layers.group->size() == 2);
  (*layers.observers[0])(layers.weights[0]);
  layers.observers[0]->get_qparams();
  layers.observers[1]->get_qparams();
  CHECK_FALSE(layers.observers[0]->has_statistics());
}
