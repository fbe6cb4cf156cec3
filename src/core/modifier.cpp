#include <algorithm>
#include <llmc/core/modifier.hpp>
#include <llmc/error.hpp>

namespace llmc {

Modifier::~Modifier() = default;

void Modifier::misuse(const std::string& message) const { throw Error(type() + ": " + message); }

void Modifier::initialize(State& state) {
  if (initialized_) misuse("Cannot initialize a modifier that has already been initialized");
  if (finalized_) misuse("Cannot initialize a modifier that has already been finalized");
  initialized_ = on_initialize(state);
  // Upstream triggers starts with a fake BATCH_START at step 0.
  Event fake_start;
  fake_start.type = EventType::BATCH_START;
  fake_start.global_step = 0;
  if (should_start(fake_start)) {
    on_start(state, fake_start);
    started_ = true;
  }
}

void Modifier::finalize(State& state) {
  if (finalized_) misuse("cannot finalize a modifier twice");
  if (!initialized_) misuse("cannot finalize an uninitialized modifier");
  finalized_ = on_finalize(state);
}

void Modifier::update_event(State& state, const Event& event, const EventInputs& inputs) {
  if (!initialized_) misuse("Cannot update an uninitialized modifier");
  if (finalized_) misuse("Cannot update a finalized modifier");
  on_event(state, event, inputs);
  switch (event.type) {
    case EventType::CALIBRATION_START:
      on_calibration_start(state, event);
      started_ = true;
      return;
    case EventType::SEQUENTIAL_EPOCH_END:
      on_sequential_epoch_end(state, event, inputs.modules);
      return;
    case EventType::CALIBRATION_END:
      on_calibration_end(state, event);
      ended_ = true;
      return;
    default:
      break;
  }
  if (event.type == EventType::BATCH_START && !started_ && should_start(event)) {
    on_start(state, event);
    started_ = true;
    on_update(state, event);
    return;
  }
  if (event.type == EventType::BATCH_END && !ended_ && should_end(event)) {
    on_end(state, event);
    ended_ = true;
    on_update(state, event);
    return;
  }
  if (started_ && !ended_) on_update(state, event);
}

bool Modifier::should_start(const Event& event) const {
  if (!start) return false;
  const double current = event.current_index();
  return *start <= current && (!end || current < *end);
}

bool Modifier::should_end(const Event& event) const {
  return end.has_value() && event.current_index() >= *end;
}

bool Modifier::on_finalize(State&) { return true; }
void Modifier::on_event(State&, const Event&, const EventInputs&) {}
void Modifier::on_start(State&, const Event&) {}
void Modifier::on_update(State&, const Event&) {}
void Modifier::on_end(State&, const Event&) {}
void Modifier::on_calibration_start(State&, const Event&) {}
void Modifier::on_sequential_epoch_end(State&, const Event&, const std::vector<nn::NamedModule>&) {}
void Modifier::on_calibration_end(State&, const Event&) {}

nlohmann::ordered_json Modifier::args_json() const {
  nlohmann::ordered_json args = nlohmann::ordered_json::object();
  append_common_args(args);
  return args;
}

void Modifier::append_common_args(nlohmann::ordered_json& args) const {
  args["requires_calibration_data"] = requires_calibration_data();
  if (index) args["index"] = *index;
  if (start) args["start"] = *start;
  if (end) args["end"] = *end;
  if (update) args["update"] = *update;
}

nn::HookHandle Modifier::register_forward_pre_hook(nn::LinearImpl& module,
                                                   nn::LinearImpl::ForwardPreHook hook) {
  hooks_.push_back(module.register_forward_pre_hook(std::move(hook)));
  return hooks_.back();
}

nn::HookHandle Modifier::register_forward_hook(nn::LinearImpl& module,
                                               nn::LinearImpl::ForwardHook hook) {
  hooks_.push_back(module.register_forward_hook(std::move(hook)));
  return hooks_.back();
}

void Modifier::remove_hooks(const std::vector<nn::HookHandle>& handles) {
  const std::vector<nn::HookHandle> targets = handles.empty() ? hooks_ : handles;
  for (auto handle : targets) {
    handle.remove();
    hooks_.erase(std::remove(hooks_.begin(), hooks_.end(), handle), hooks_.end());
  }
}

}  // namespace llmc
