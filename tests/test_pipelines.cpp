// Calibration pipelines (LC §1.5): inference rule (LC pipelines/test_registry.py, with test
// modifiers in place of QuantizationModifier/GPTQ), independent epochs per modifier, and what
// the basic pipeline's forward sees.
#include <torch/nn/modules/container/sequential.h>

#include <llmc/nn/linear.hpp>
#include <llmc/nn/quantization_init.hpp>
#include <llmc/pipelines/pipelines.hpp>
#include <llmc/pipelines/registry.hpp>
#include <llmc/quant/presets.hpp>

#include "support/catch.hpp"
#include "support/error_of.hpp"
#include "test_lifecycle_recorder.hpp"

using llmc::test::EventLog;
using llmc::test::RecordingModifier;

namespace {

std::shared_ptr<RecordingModifier> recorder(const std::string& name,
                                            const std::shared_ptr<EventLog>& log, bool needs_data) {
  return std::make_shared<RecordingModifier>(name, log, needs_data);
}

// A two-layer model of llmc::nn::Linear with a forward, plus calibration batches.
struct TwoLayerImpl : torch::nn::Module {
  TwoLayerImpl() {
    first = register_module("first", llmc::nn::Linear(8, 8));
    second = register_module("second", llmc::nn::Linear(8, 4));
  }
  torch::Tensor forward(const torch::Tensor& x) { return second(first(x)); }
  llmc::nn::Linear first{nullptr}, second{nullptr};
};
TORCH_MODULE(TwoLayer);

void set_model(llmc::Session& session, const TwoLayer& model, int batches) {
  session.state().model = model.ptr();
  session.state().forward = llmc::module_forward(model.ptr());
  for (int i = 0; i < batches; ++i) session.state().calib_data.push_back(torch::randn({2, 8}));
}

}  // namespace

TEST_CASE("No modifier requiring data infers datafree; one that does infers sequential") {
  auto log = std::make_shared<EventLog>();
  CHECK(llmc::infer_pipeline({}) == "datafree");
  CHECK(llmc::infer_pipeline({recorder("w4a16", log, false)}) == "datafree");
  CHECK(llmc::infer_pipeline({recorder("w4a16", log, false), recorder("gptq", log, true)}) ==
        "sequential");
}

TEST_CASE("A user's 'independent' is taken silently; another differing choice warns and wins") {
  auto log = std::make_shared<EventLog>();
  llmc::Session session;
  const std::vector<std::shared_ptr<llmc::Modifier>> needs_data = {recorder("m", log, true)};
  CHECK(llmc::resolve_pipeline(session, needs_data, "independent") == "independent");
  CHECK(llmc::resolve_pipeline(session, needs_data, std::nullopt) == "sequential");
  CHECK(llmc::resolve_pipeline(session, needs_data, "Sequential") == "sequential");
  CHECK(session.warnings().empty());
  CHECK(llmc::resolve_pipeline(session, needs_data, "basic") == "basic");
  REQUIRE(session.warnings().size() == 1);
  CHECK(session.warnings()[0] ==
        "Calibration pipeline is set to `basic`, but it is recommended to use `sequential`");
}

TEST_CASE("An unknown pipeline name is an error listing the known ones") {
  llmc::Session session;
  CHECK_THAT(llmc::test::error_of([&] { llmc::resolve_pipeline(session, {}, "layerwise"); }),
             Catch::Contains("unknown calibration pipeline 'layerwise' (known: datafree, basic, "
                             "sequential, independent)"));
}

TEST_CASE("datafree sends the three events with every module of the model") {
  auto log = std::make_shared<EventLog>();
  TwoLayer model;
  llmc::Session session;
  session.state().model = model.ptr();
  session.initialize({recorder("m", log, false)});
  llmc::run_calibration(session, "datafree");
  CHECK(*log == EventLog{"m:initialize", "m:calibration_start", "m:sequential_epoch_end(3)",
                         "m:calibration_end"});
}

TEST_CASE("independent gives each modifier its own calibration epoch, in recipe order") {
  torch::manual_seed(0);
  auto log = std::make_shared<EventLog>();
  TwoLayer model;
  llmc::Session session;
  set_model(session, model, 2);
  auto a = recorder("a", log, false);
  auto b = recorder("b", log, true);
  int forwards = 0;
  a->register_forward_pre_hook(*model->first, [&](auto&, const torch::Tensor&) {
    log->push_back("forward");
    ++forwards;
    return std::optional<torch::Tensor>{};
  });
  session.initialize({a, b});
  llmc::run_calibration(session);
  CHECK(*log == EventLog{"a:initialize", "b:initialize", "a:calibration_start",
                         "a:sequential_epoch_end(3)", "a:calibration_end", "b:calibration_start",
                         "forward", "forward", "b:sequential_epoch_end(3)", "b:calibration_end"});
  CHECK(session.lifecycle().modifiers().size() == 2);  // the recipe is restored afterwards
}

TEST_CASE("basic forwards every batch without grad, in eval mode, quantization off, hooks on") {
  torch::manual_seed(0);
  auto log = std::make_shared<EventLog>();
  TwoLayer model;
  model->train();
  for (auto& linear : {model->first, model->second}) {
    llmc::nn::initialize_module_for_quantization(*linear.ptr(),
                                                 llmc::preset_name_to_scheme("W8A16", {}));
  }
  llmc::Session session;
  set_model(session, model, 3);
  std::vector<int64_t> batch_indices;
  auto m = recorder("m", log, true);
  m->register_forward_pre_hook(*model->second,
                               [&](llmc::nn::LinearImpl& linear, const torch::Tensor&) {
                                 CHECK_FALSE(linear.quantization_enabled);
                                 CHECK_FALSE(torch::GradMode::is_enabled());
                                 CHECK_FALSE(linear.is_training());
                                 batch_indices.push_back(session.state().current_batch_idx);
                                 return std::optional<torch::Tensor>{};
                               });
  session.initialize({m});
  llmc::run_calibration(session, "basic");
  CHECK(batch_indices == std::vector<int64_t>{0, 1, 2});
  CHECK(model->second->quantization_enabled);  // upstream enables on exit
  CHECK(model->is_training());
  CHECK(*log == EventLog{"m:initialize", "m:calibration_start", "m:sequential_epoch_end(3)",
                         "m:calibration_end"});
}

TEST_CASE("sequential runs the layer-agnostic basic calibration: one pass, one epoch end") {
  auto log = std::make_shared<EventLog>();
  TwoLayer model;
  llmc::Session session;
  set_model(session, model, 2);
  int forwards = 0;
  auto m = recorder("m", log, true);
  m->register_forward_pre_hook(*model->first, [&](auto&, const torch::Tensor&) {
    ++forwards;
    return std::optional<torch::Tensor>{};
  });
  session.initialize({m});
  llmc::run_calibration(session, std::nullopt);
  CHECK(forwards == 2);
  CHECK(*log == EventLog{"m:initialize", "m:calibration_start", "m:sequential_epoch_end(3)",
                         "m:calibration_end"});
}

TEST_CASE("basic without a model forward is an error saying what to set") {
  TwoLayer model;
  llmc::Session session;
  session.state().model = model.ptr();
  session.initialize({});
  CHECK_THAT(llmc::test::error_of([&] { llmc::basic_pipeline(session); }),
             Catch::Contains("State::forward is not set"));
}
