#include <algorithm>
#include <array>
#include <llmc/core/lifecycle.hpp>
#include <llmc/error.hpp>

namespace llmc {

namespace {

constexpr std::array<EventType, 5> kTrainingOrder = {
    EventType::BATCH_START, EventType::LOSS_CALCULATED, EventType::OPTIM_PRE_STEP,
    EventType::OPTIM_POST_STEP, EventType::BATCH_END};

// Upstream formats enum members as "EventType.BATCH_START".
std::string qualified(EventType type) {
  std::string value = to_string(type);
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return "EventType." + value;
}

size_t training_position(EventType type) {
  return static_cast<size_t>(std::find(kTrainingOrder.begin(), kTrainingOrder.end(), type) -
                             kTrainingOrder.begin());
}

[[noreturn]] void fail(const std::string& message) { throw Error("lifecycle: " + message); }

}  // namespace

bool Lifecycle::initialize(std::vector<std::shared_ptr<Modifier>> modifiers) {
  if (initialized_) return false;
  modifiers_ = std::move(modifiers);
  for (const auto& modifier : modifiers_) modifier->initialize(state_);
  initialized_ = true;
  return true;
}

bool Lifecycle::validate_event_order(EventType type) {
  const size_t position = training_position(type);
  if (position == kTrainingOrder.size()) return true;  // not a training event: not tracked
  const bool valid = type == EventType::BATCH_START
                         ? last_event_type_ != EventType::BATCH_START
                         : training_position(last_event_type_) <= position;
  if (valid) last_event_type_ = type;
  return valid;
}

void Lifecycle::event(EventType type, const EventInputs& inputs) {
  if (!initialized_) fail("Cannot invoke event before initializing");
  if (finalized_) fail("Cannot invoke event after finalizing");
  if (type == EventType::INITIALIZE || type == EventType::FINALIZE) {
    fail("Cannot invoke " + qualified(type) + " event. Use the corresponding method instead.");
  }
  if (!validate_event_order(type)) {
    std::string order;
    for (EventType t : kTrainingOrder) order += (order.empty() ? "" : ", ") + qualified(t);
    fail("Lifecycle events must appear following order: [" + order + "]. Instead, " +
         qualified(last_event_type_) + " was called before " + qualified(type));
  }
  if (type == EventType::LOSS_CALCULATED && !inputs.loss) {
    fail("Loss must be provided for loss calculated event");
  }
  if (inputs.global_step) global_step_ = *inputs.global_step;
  if (inputs.loss) state_.loss = inputs.loss;
  if (inputs.batch_data) state_.batch_data = inputs.batch_data;
  // Upstream builds Event(type_) and so always reports step 0; the step is passed on here.
  Event event;
  event.type = type;
  event.global_step = global_step_;
  for (const auto& modifier : modifiers()) modifier->update_event(state_, event, inputs);
}

void Lifecycle::finalize() {
  if (!initialized_) fail("Cannot finalize before initializing");
  if (finalized_) fail("Cannot finalize more than once");
  for (const auto& modifier : modifiers_) modifier->finalize(state_);
  finalized_ = true;
}

std::vector<std::string> Lifecycle::reset() {
  std::vector<std::string> errors;
  for (const auto& modifier : modifiers_) {
    if (!modifier->initialized() || modifier->finalized()) continue;
    try {
      modifier->finalize(state_);
    } catch (const std::exception& e) {
      errors.push_back(std::string("Exception during finalizing modifier: ") + e.what());
    }
  }
  *this = Lifecycle();
  return errors;
}

void Lifecycle::reset_stage() {
  initialized_ = false;
  finalized_ = false;
}

const std::vector<std::shared_ptr<Modifier>>& Lifecycle::modifiers() const {
  return active_ ? *active_ : modifiers_;
}

Lifecycle::ScopedModifiers::ScopedModifiers(Lifecycle& lifecycle,
                                            std::vector<std::shared_ptr<Modifier>> only)
    : lifecycle_(lifecycle), previous_(lifecycle.active_) {
  lifecycle_.active_ = std::move(only);
}

Lifecycle::ScopedModifiers::~ScopedModifiers() { lifecycle_.active_ = std::move(previous_); }

}  // namespace llmc
