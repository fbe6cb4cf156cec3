#include <llmc/error.hpp>
#include <llmc/pipelines/pipelines.hpp>

namespace llmc {

namespace {

// The parts of upstream's calibration_forward_context that apply to a C++ model: no autograd
// and eval mode, restored on exit (KV-cache, HF-kernel and lm_head switches have no
// counterpart here).
class CalibrationForwardContext {
 public:
  explicit CalibrationForwardContext(torch::nn::Module& model)
      : model_(model), was_training_(model.is_training()) {
    model_.eval();
  }
  ~CalibrationForwardContext() { model_.train(was_training_); }
  CalibrationForwardContext(const CalibrationForwardContext&) = delete;
  CalibrationForwardContext& operator=(const CalibrationForwardContext&) = delete;

 private:
  torch::NoGradGuard no_grad_;
  torch::nn::Module& model_;
  bool was_training_;
};

std::optional<torch::Device> execution_device(const torch::nn::Module& model) {
  for (const auto& parameter : model.parameters()) return parameter.device();
  return std::nullopt;
}

void forward_batches(Session& session) {
  State& state = session.state();
  CalibrationForwardContext context(*state.model);
  nn::DisableQuantization no_quantization(*state.model);
  const auto device = execution_device(*state.model);
  for (size_t i = 0; i < state.calib_data.size(); ++i) {
    state.current_batch_idx = static_cast<int64_t>(i);
    const torch::Tensor& batch = state.calib_data[i];
    state.forward(device ? batch.to(*device) : batch);
  }
}

}  // namespace

void basic_pipeline(Session& session) {
  const State& state = session.state();
  if (!state.model) throw Error("basic pipeline: State::model is not set");
  if (!state.forward) {
    throw Error(
        "basic pipeline: State::forward is not set (the pipeline runs the model on "
        "every calibration batch; see llmc::module_forward)");
  }
  if (state.calib_data.empty()) {
    session.warn("basic pipeline: no calibration batches; modifiers see no activations");
  }
  session.event(EventType::CALIBRATION_START);
  forward_batches(session);
  EventInputs epoch_end;
  epoch_end.modules = nn::named_modules(*state.model);
  session.event(EventType::SEQUENTIAL_EPOCH_END, epoch_end);
  session.event(EventType::CALIBRATION_END);
}

}  // namespace llmc
