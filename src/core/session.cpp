#include <llmc/core/session.hpp>

namespace llmc {

void Session::initialize(std::vector<std::shared_ptr<Modifier>> modifiers) {
  if (!lifecycle_.initialize(std::move(modifiers))) {
    warn("session already initialized: the new modifiers were ignored (call reset() first)");
  }
}

void Session::event(EventType type, const EventInputs& inputs) { lifecycle_.event(type, inputs); }

void Session::finalize() { lifecycle_.finalize(); }

void Session::reset() {
  for (auto& message : lifecycle_.reset()) warn(std::move(message));
}

namespace {
thread_local Session* active_session_ptr = nullptr;
}  // namespace

Session& active_session() {
  if (active_session_ptr != nullptr) return *active_session_ptr;
  thread_local Session default_session;
  return default_session;
}

SessionScope::SessionScope()
    : owned_(std::make_unique<Session>()), session_(owned_.get()), previous_(active_session_ptr) {
  active_session_ptr = session_;
}

SessionScope::SessionScope(Session& session) : session_(&session), previous_(active_session_ptr) {
  active_session_ptr = session_;
}

SessionScope::~SessionScope() { active_session_ptr = previous_; }

namespace callbacks {

void batch_start(const torch::Tensor& batch_data) {
  EventInputs inputs;
  if (batch_data.defined()) inputs.batch_data = batch_data;
  active_session().event(EventType::BATCH_START, inputs);
}

void loss_calculated(const torch::Tensor& loss) {
  EventInputs inputs;
  if (loss.defined()) inputs.loss = loss;
  active_session().event(EventType::LOSS_CALCULATED, inputs);
}

void optim_pre_step() { active_session().event(EventType::OPTIM_PRE_STEP); }
void optim_post_step() { active_session().event(EventType::OPTIM_POST_STEP); }
void batch_end() { active_session().event(EventType::BATCH_END); }
void calibration_start() { active_session().event(EventType::CALIBRATION_START); }

void sequential_epoch_end(std::vector<nn::NamedModule> modules) {
  EventInputs inputs;
  inputs.modules = std::move(modules);
  active_session().event(EventType::SEQUENTIAL_EPOCH_END, inputs);
}

void calibration_end() { active_session().event(EventType::CALIBRATION_END); }

}  // namespace callbacks

}  // namespace llmc
