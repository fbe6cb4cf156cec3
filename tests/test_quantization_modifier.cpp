// QuantizationModifier and IMatrixGatherer without Python (LC §3, §5.8): config resolution and
// its errors, calibration-data inference, divisibility, recipe errors with their locations, the
// gatherer's hand-over of importance, data-free RTN equal to the observer it uses, and the
// serialised recipe running again to the same qparams.
#include <torch/nn/functional/linear.h>

#include <llmc/core/session.hpp>
#include <llmc/entrypoints/oneshot.hpp>
#include <llmc/modifiers/imatrix_gatherer.hpp>
#include <llmc/modifiers/quantization_modifier.hpp>
#include <llmc/nn/linear.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/observers/registry.hpp>
#include <llmc/pipelines/registry.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/presets.hpp>
#include <llmc/recipe/recipe.hpp>

#include "support/catch.hpp"
#include "support/error_of.hpp"
#include "support/oracle.hpp"

using Catch::Matchers::Contains;
using llmc::QuantizationArgs;
using llmc::QuantizationModifier;
using llmc::QuantizationModifierOptions;
using llmc::QuantizationStrategy;
using llmc::test::error_of;

namespace {

// A user's model: fc1 (256 → 128) → relu → fc2 (128 → 32); every width divides group 32 and 128.
struct TinyMLPImpl : torch::nn::Module {
  TinyMLPImpl() {
    fc1 = register_module("fc1", llmc::nn::Linear(llmc::nn::LinearOptions(256, 128).bias(false)));
    fc2 = register_module("fc2", llmc::nn::Linear(llmc::nn::LinearOptions(128, 32).bias(false)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::relu(fc1(x))); }
  llmc::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(TinyMLP);

// A seeded model, and an exact copy of it for a second run.
TinyMLP seeded_model(uint64_t seed = 3) {
  torch::manual_seed(seed);
  return TinyMLP();
}

// Calibration batches with input channels of very different magnitudes.
llmc::CalibrationData skewed_batches(int count = 3) {
  torch::manual_seed(11);
  const at::Tensor channel_scale = at::logspace(-2, 1, 256);
  llmc::CalibrationData batches;
  for (int i = 0; i < count; ++i) batches.push_back(at::randn({2, 4, 256}) * channel_scale);
  return batches;
}

QuantizationModifierOptions w4a16() { return QuantizationModifierOptions().scheme("W4A16"); }

// The resolved scheme of the single group.
llmc::QuantizationScheme only_group(const QuantizationModifierOptions& options) {
  const auto config = llmc::resolve_quantization_config(options);
  REQUIRE(config.config_groups().size() == 1);
  CHECK(config.config_groups()[0].first == "group_0");
  return config.config_groups()[0].second;
}

std::optional<std::string> weight_observer(const llmc::QuantizationScheme& scheme) {
  REQUIRE(scheme.weights().has_value());
  return scheme.weights()->observer();
}

bool needs_data(const QuantizationModifierOptions& options) {
  return QuantizationModifier(options).requires_calibration_data();
}

std::string recipe_error(const std::string& text) {
  return error_of([&] { llmc::create_modifiers(llmc::Recipe::from_string(text)); });
}

// Every qparam of every Linear, by "<module>.<qparam>".
std::map<std::string, at::Tensor> all_qparams(const torch::nn::Module& model) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, linear] : llmc::nn::named_linears(model)) {
    for (const auto& qparam : linear->qparam_names()) {
      out[name + "." + qparam] = linear->qparam(qparam).clone();
    }
  }
  return out;
}

void check_same_qparams(const std::map<std::string, at::Tensor>& actual,
                        const std::map<std::string, at::Tensor>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (const auto& [name, tensor] : expected) {
    REQUIRE(actual.count(name) == 1);
    LLMC_CHECK_BIT_EQUAL(actual.at(name), tensor, name);
  }
}

constexpr const char* kImatrixRecipe = R"(recipe:
  - IMatrixGatherer: {ignore: [lm_head]}
  - QuantizationModifier:
      config_groups:
        group_0:
          targets: [Linear]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: group, group_size: 32,
                    observer: imatrix_mse, observer_kwargs: {norm: 2.4, maxshrink: 0.7}}
      ignore: [lm_head]
)";

}  // namespace

TEST_CASE(
    "a scheme string becomes group_0: the preset on `targets`, weights observed by "
    "memoryless_minmax") {
  const auto options = w4a16().targets({"re:.*fc1"}).ignore({"fc2"});
  const auto config = llmc::resolve_quantization_config(options);
  REQUIRE(config.config_groups().size() == 1);
  const auto& [name, scheme] = config.config_groups()[0];
  CHECK(name == "group_0");
  CHECK(scheme.targets() == std::vector<std::string>{"re:.*fc1"});
  REQUIRE(scheme.weights().has_value());
  CHECK(scheme.weights()->num_bits() == 4);
  CHECK(scheme.weights()->group_size() == 128);
  CHECK(scheme.weights()->observer() == "memoryless_minmax");
  CHECK(config.ignore() == std::vector<std::string>{"fc2"});
  CHECK(config.quantization_status() == llmc::QuantizationStatus::Initialized);
}

TEST_CASE("a scheme dict makes one group per preset, in order, each with its own targets") {
  const auto config =
      llmc::resolve_quantization_config(QuantizationModifierOptions().scheme_targets(
          llmc::PresetTargets{{"W4A16", {"re:.*fc1"}}, {"w8a16", {"fc2"}}}));
  REQUIRE(config.config_groups().size() == 2);
  CHECK(config.config_groups()[0].first == "group_0");
  CHECK(config.config_groups()[0].second.targets() == std::vector<std::string>{"re:.*fc1"});
  CHECK(config.config_groups()[0].second.weights()->num_bits() == 4);
  CHECK(config.config_groups()[1].first == "group_1");
  CHECK(config.config_groups()[1].second.targets() == std::vector<std::string>{"fc2"});
  CHECK(config.config_groups()[1].second.weights()->num_bits() == 8);
}

TEST_CASE("scheme together with config_groups is rejected, as upstream") {
  const auto options = w4a16().config_groups(
      llmc::ConfigGroups{{"group_0", llmc::preset_name_to_scheme("W8A16", {"Linear"})}});
  CHECK_THAT(error_of([&] { QuantizationModifier modifier(options); }),
             Contains("Please specify either `scheme` or `config_groups`"));
}

TEST_CASE("a scheme that is not a preset is rejected, naming it") {
  CHECK_THAT(error_of([] {
               QuantizationModifier modifier(QuantizationModifierOptions().scheme("W4A15"));
             }),
             Contains("W4A15") && Contains("preset"));
  CHECK_THAT(recipe_error("- QuantizationModifier: {scheme: W4A15}\n"),
             Contains("QuantizationModifier.scheme") && Contains("W4A15"));
}

TEST_CASE("an observer dict with a key other than weights/input/output is rejected") {
  CHECK_THAT(error_of([] {
               QuantizationModifier modifier(w4a16().observer(
                   std::map<std::string, std::string>{{"weight", "memoryless_mse"}}));
             }),
             Contains("'weight'") && Contains("weights, input, output"));
  CHECK_THAT(
      recipe_error("- QuantizationModifier:\n    scheme: W4A16\n    observer: {weight: mse}\n"),
      Contains("<string>:3:5: QuantizationModifier.observer") && Contains("'weight'"));
}

TEST_CASE("weight_observer and the observer dict together are rejected") {
  const auto options = w4a16()
                           .weight_observer("imatrix_mse")
                           .observer(std::map<std::string, std::string>{{"input", "minmax"}});
  CHECK_THAT(error_of([&] { QuantizationModifier modifier(options); }),
             Contains("Cannot specify both"));
}

TEST_CASE("default observers: weights memoryless_minmax, static inputs minmax, dynamic none") {
  const auto int8 = QuantizationArgs().num_bits(8);
  const auto scheme =
      llmc::QuantizationScheme()
          .targets({"Linear"})
          .weights(QuantizationArgs(int8).strategy(QuantizationStrategy::Channel))
          .input_activations(QuantizationArgs(int8).strategy(QuantizationStrategy::Tensor))
          .output_activations(QuantizationArgs(int8)
                                  .strategy(QuantizationStrategy::Token)
                                  .dynamic(llmc::DynamicType::Dynamic));
  const auto resolved = only_group(
      QuantizationModifierOptions().config_groups(llmc::ConfigGroups{{"group_0", scheme}}));
  CHECK(resolved.weights()->observer() == "memoryless_minmax");
  CHECK(resolved.input_activations()->observer() == "minmax");
  CHECK_FALSE(resolved.output_activations()->observer().has_value());
  // W8A8's dynamic token inputs get none; FP8's static inputs keep the preset's static_minmax.
  CHECK_FALSE(only_group(QuantizationModifierOptions().scheme("W8A8"))
                  .input_activations()
                  ->observer()
                  .has_value());
  CHECK(only_group(QuantizationModifierOptions().scheme("FP8")).input_activations()->observer() ==
        "static_minmax");
}

TEST_CASE("an observer set in config_groups is kept unless an override names another") {
  const auto scheme =
      llmc::QuantizationScheme()
          .targets({"Linear"})
          .weights(QuantizationArgs().num_bits(4).group_size(32).observer("memoryless_mse"));
  const auto groups = llmc::ConfigGroups{{"group_0", scheme}};
  CHECK(weight_observer(only_group(QuantizationModifierOptions().config_groups(groups))) ==
        "memoryless_mse");
  CHECK(weight_observer(only_group(
            QuantizationModifierOptions().config_groups(groups).weight_observer("imatrix_mse"))) ==
        "imatrix_mse");
  CHECK(weight_observer(only_group(w4a16().observer(
            std::map<std::string, std::string>{{"weights", "imatrix_mse"}}))) == "imatrix_mse");
}

TEST_CASE("has_config is false for the defaults, and initialize then says fields are needed") {
  CHECK_FALSE(QuantizationModifierOptions().has_config());
  CHECK(QuantizationModifierOptions().ignore({"lm_head"}).has_config());
  CHECK(QuantizationModifierOptions().targets({"re:.*fc1"}).has_config());
  CHECK(w4a16().has_config());
  TinyMLP model = seeded_model();
  llmc::State state;
  state.model = model.ptr();
  QuantizationModifier modifier;
  CHECK_THAT(error_of([&] { modifier.initialize(state); }),
             Contains("QuantizationModifier requires that quantization fields be specified"));
}

TEST_CASE("group sizes that do not divide a layer's columns are listed unless bypassed") {
  struct WideImpl : torch::nn::Module {
    WideImpl() {
      odd = register_module("odd", llmc::nn::Linear(200, 8));       // 200 % 128 != 0
      narrow = register_module("narrow", llmc::nn::Linear(64, 8));  // fewer columns: fine
    }
    llmc::nn::Linear odd{nullptr}, narrow{nullptr};
  };
  auto model = std::make_shared<WideImpl>();
  llmc::State state;
  state.model = model;
  QuantizationModifier strict(w4a16());
  const std::string message = error_of([&] { strict.initialize(state); });
  CHECK_THAT(message, Contains("odd (columns=200, group_size=128)"));
  CHECK_THAT(message, Contains("bypass_divisibility_checks"));
  CHECK_THAT(message, !Contains("narrow"));
  QuantizationModifier bypassed(w4a16().bypass_divisibility_checks(true));
  CHECK(error_of([&] { bypassed.initialize(state); }) == "<no error>");
}

TEST_CASE("imatrix observers, static inputs need calibration data; RTN with min/max does not") {
  CHECK(needs_data(w4a16().weight_observer("imatrix_mse")));
  CHECK(needs_data(w4a16().weight_observer("IMatrix-MSE")));  // llmc normalises the name
  CHECK(needs_data(
      QuantizationModifierOptions().scheme("NVFP4A16").weight_observer("nvfp4_expanded_imatrix")));
  CHECK(needs_data(QuantizationModifierOptions().scheme("FP8")));  // static input activations
  CHECK_FALSE(needs_data(w4a16()));
  CHECK_FALSE(needs_data(w4a16().weight_observer("memoryless_minmax")));
  CHECK_FALSE(needs_data(QuantizationModifierOptions().scheme("W8A8")));  // dynamic inputs
  CHECK(llmc::IMatrixGatherer().requires_calibration_data());
}

TEST_CASE("pipeline inference: datafree for plain W4A16, sequential once imatrix is involved") {
  auto plain = std::make_shared<QuantizationModifier>(w4a16());
  auto imatrix = std::make_shared<QuantizationModifier>(w4a16().weight_observer("imatrix_mse"));
  auto gatherer = std::make_shared<llmc::IMatrixGatherer>();
  CHECK(llmc::infer_pipeline({plain}) == "datafree");
  CHECK(llmc::infer_pipeline({imatrix}) == "sequential");
  CHECK(llmc::infer_pipeline({gatherer}) == "sequential");
  CHECK(llmc::infer_pipeline({gatherer, plain}) == "sequential");
}

TEST_CASE("recipe errors name file:line:column, the modifier and the key") {
  CHECK_THAT(recipe_error("- QuantizationModifier:\n    scheme: W4A16\n    tragets: [Linear]\n"),
             Contains("<string>:3:5: QuantizationModifier.tragets: unknown argument") &&
                 Contains("config_groups"));
  CHECK_THAT(recipe_error("- QuantizationModifier:\n    scheme: W4A16\n"
                          "    bypass_divisibility_checks: maybe\n"),
             Contains("<string>:3:5: QuantizationModifier.bypass_divisibility_checks: expected") &&
                 Contains("maybe"));
  CHECK_THAT(recipe_error("- QuantizationModifier:\n    scheme: W4A16\n"
                          "    kv_cache_scheme: {num_bits: 8, type: float, strategy: tensor}\n"),
             Contains("<string>:3:5: QuantizationModifier.kv_cache_scheme: not supported"));
  CHECK_THAT(recipe_error("- QuantizationModifier:\n    targets: 3\n"),
             Contains("<string>:2:5: QuantizationModifier.targets"));
}

TEST_CASE("IMatrixGatherer accepts only imatrix_mse as its weight observer") {
  CHECK_THAT(error_of([] {
               llmc::IMatrixGatherer gatherer(
                   llmc::IMatrixGathererOptions().weight_observer("memoryless_mse"));
             }),
             Contains("memoryless_mse"));
  CHECK_THAT(
      recipe_error("- IMatrixGatherer:\n    weight_observer: memoryless_mse\n"),
      Contains("<string>:2:5: IMatrixGatherer.weight_observer") && Contains("memoryless_mse"));
  CHECK(error_of([] {
          llmc::IMatrixGatherer gatherer(
              llmc::IMatrixGathererOptions().weight_observer("IMatrix-MSE"));
        }) == "<no error>");
}

TEST_CASE(
    "IMatrixGatherer leaves Σx² and the token count on each module at calibration end, "
    "and deletes them at finalize") {
  TinyMLP model = seeded_model();
  const auto batches = skewed_batches();
  llmc::Session session;
  session.state().model = model.ptr();
  session.state().forward = llmc::module_forward(model.ptr());
  session.state().calib_data = batches;
  auto gatherer = std::make_shared<llmc::IMatrixGatherer>();
  session.initialize({gatherer});
  CHECK(model->fc1->num_forward_pre_hooks() == 1);
  llmc::run_calibration(session);

  at::Tensor expected = at::zeros({256});
  for (const auto& x : batches) expected += x.pow(2).sum(at::IntArrayRef{0, 1});
  for (const auto& [name, linear] : gatherer->targeted_modules()) {
    INFO(name);
    CHECK(linear->num_forward_pre_hooks() == 0);
    CHECK(linear->observers.empty());
    REQUIRE(linear->attributes.count(llmc::kIMatrixSum) == 1);
    CHECK(linear->attributes.at(llmc::kIMatrixCount).item<int64_t>() == 3 * 2 * 4);
  }
  CHECK(at::allclose(model->fc1->attributes.at(llmc::kIMatrixSum), expected));
  session.finalize();
  for (const auto& [name, linear] : llmc::nn::named_linears(*model)) {
    INFO(name);
    CHECK(linear->attributes.empty());
  }
}

TEST_CASE("IMatrixGatherer alone quantizes nothing and leaves the model as it found it") {
  TinyMLP model = seeded_model();
  const at::Tensor w1 = model->fc1->weight.detach().clone();
  llmc::oneshot(model.ptr(), skewed_batches(),
                llmc::Recipe::from_string("- IMatrixGatherer: {}\n"));
  for (const auto& [name, linear] : llmc::nn::named_linears(*model)) {
    INFO(name);
    CHECK(linear->qparam_names().empty());
    CHECK_FALSE(linear->quantization_scheme.has_value());
    CHECK(linear->num_forward_pre_hooks() == 0);
    CHECK(linear->num_forward_hooks() == 0);
    CHECK(linear->observers.empty());
    CHECK(linear->attributes.empty());
  }
  LLMC_CHECK_BIT_EQUAL(model->fc1->weight.detach(), w1, "fc1.weight");
}

TEST_CASE("data-free W4A16 gives the qparams of memoryless_minmax on each weight, bit for bit") {
  for (auto dtype : {at::kFloat, at::kBFloat16}) {
    INFO(dtype);
    TinyMLP model = seeded_model();
    model->to(dtype);
    llmc::oneshot(model.ptr(), llmc::CalibrationData{},
                  llmc::Recipe::from_string("- QuantizationModifier: {scheme: W4A16}\n"));
    const auto args = *llmc::preset_name_to_scheme("W4A16", {"Linear"}).weights();
    for (const auto& [name, linear] : llmc::nn::named_linears(*model)) {
      auto observer = llmc::load_observer("memoryless_minmax", "weight", args);
      const auto expected = (*observer)(linear->weight.detach()).get_qparams();
      LLMC_CHECK_BIT_EQUAL(linear->qparam("weight_scale"), expected.scale, name + " scale");
      LLMC_CHECK_BIT_EQUAL(linear->qparam("weight_zero_point"), expected.zero_point,
                           name + " zero point");
    }
  }
}

TEST_CASE("ignore leaves a module unquantized and out of the modifier's targets") {
  TinyMLP model = seeded_model();
  const auto result = llmc::oneshot(
      model.ptr(), llmc::CalibrationData{},
      llmc::Recipe::from_string("- QuantizationModifier: {scheme: W4A16, ignore: [fc2]}\n"));
  CHECK(model->fc1->has_qparam("weight_scale"));
  CHECK(model->fc2->qparam_names().empty());
  auto modifier = std::dynamic_pointer_cast<QuantizationModifier>(result.modifiers.at(0));
  REQUIRE(modifier != nullptr);
  REQUIRE(modifier->targeted_modules().size() == 1);
  CHECK(modifier->targeted_modules()[0].first == "fc1");
}

TEST_CASE("the recipe oneshot serialises runs again to the same qparams") {
  TinyMLP first = seeded_model();
  const auto batches = skewed_batches();
  const auto result =
      llmc::oneshot(first.ptr(), batches, llmc::Recipe::from_string(kImatrixRecipe));
  const std::string yaml = llmc::recipe_of(result.modifiers).to_yaml();
  INFO(yaml);
  CHECK(result.recipe.to_yaml() == yaml);
  CHECK_THAT(yaml,
             Contains("default_stage:") && Contains("IMatrixGatherer") && Contains("imatrix_mse"));

  TinyMLP second = seeded_model();
  llmc::oneshot(second.ptr(), batches, llmc::Recipe::from_string(yaml));
  check_same_qparams(all_qparams(*second), all_qparams(*first));
  REQUIRE(first->fc1->has_qparam("weight_scale"));
}

TEST_CASE("static input activations are observed by a pre-hook and frozen into input_scale") {
  // int8 per-tensor static inputs: the input observer (minmax, EMA 0.01) sees every batch
  // through its hook, input_scale is set at the epoch end, and afterwards the forward
  // fake-quantizes the input with it.
  auto model = seeded_model();
  const auto batches = skewed_batches();
  const auto recipe = llmc::Recipe::from_string(R"(
- QuantizationModifier:
    config_groups:
      group_0:
        targets: [Linear]
        weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}
        input_activations: {num_bits: 8, type: int, symmetric: true, strategy: tensor,
                            dynamic: false}
)");
  const auto result = llmc::oneshot(model.ptr(), batches, recipe);

  // The same statistics by hand: fc1 sees the batches themselves.
  const auto input_args = QuantizationArgs()
                              .num_bits(8)
                              .symmetric(true)
                              .strategy(QuantizationStrategy::Tensor)
                              .validated();
  auto observer = llmc::load_observer("minmax", "input", input_args);
  for (const auto& batch : batches) (*observer)(batch);
  const llmc::QParams expected = observer->get_qparams();
  const at::Tensor& input_scale = model->fc1->qparam("input_scale");
  CHECK(input_scale.equal(expected.scale.to(input_scale.scalar_type()).reshape(input_scale.sizes())));
  CHECK(model->fc2->qparam("input_scale").gt(0).all().item<bool>());
  for (const auto& [name, linear] : llmc::nn::named_linears(*model)) {
    CHECK(linear->num_forward_pre_hooks() == 0);
    CHECK(linear->observers.empty());
    CHECK(linear->quantization_enabled);
  }
  // Quantization now runs in forward: inputs are snapped to the int8 grid of input_scale.
  torch::NoGradGuard no_grad;
  const at::Tensor x = batches.front();
  const at::Tensor y = model->fc1->forward(x);
  CHECK_FALSE(y.equal(torch::nn::functional::linear(
      x, llmc::fake_quantize(model->fc1->weight, model->fc1->qparam("weight_scale"),
                             model->fc1->qparam("weight_zero_point"), *model->fc1->quantization_scheme->weights()))));
}
