// Lifecycle: the modifiers of one recipe and the rules for driving them (LC §1.3
// CompressionLifecycle): initialize all in recipe order, dispatch events with upstream's misuse
// checks and training-event order, finalize once, reset.
//
//   llmc::Lifecycle lc;
//   lc.state().model = model.ptr();
//   lc.initialize({modifier});
//   lc.event(llmc::EventType::CALIBRATION_START);
//   lc.finalize();
#pragma once

#include <llmc/core/event.hpp>
#include <llmc/core/modifier.hpp>
#include <llmc/core/state.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llmc {

class Lifecycle {
 public:
  State& state() { return state_; }
  const State& state() const { return state_; }

  // Initializes every modifier in order and keeps them. Like upstream, a lifecycle that is
  // already initialized does nothing and keeps its modifiers: returns false then.
  bool initialize(std::vector<std::shared_ptr<Modifier>> modifiers);

  // Errors (llmc::Error, upstream's ValueError messages): before initialize, after finalize,
  // INITIALIZE/FINALIZE, a training event out of BATCH_START ≤ LOSS_CALCULATED ≤ OPTIM_PRE_STEP
  // ≤ OPTIM_POST_STEP ≤ BATCH_END order, LOSS_CALCULATED without inputs.loss. Then every active
  // modifier's update_event, in order.
  void event(EventType type, const EventInputs& inputs = {});

  // Finalizes every modifier; errors before initialize and on a second call.
  void finalize();

  // Finalizes initialized, unfinalized modifiers (their errors are swallowed and returned as
  // messages, upstream logs them), then starts over with an empty lifecycle and State.
  std::vector<std::string> reset();

  // upstream's Session.reset_stage: initialize and finalize become callable again, recipe and
  // state stay.
  void reset_stage();

  // The modifiers events reach: the recipe's, or a subset while a scope below is alive.
  const std::vector<std::shared_ptr<Modifier>>& modifiers() const;
  const std::vector<std::shared_ptr<Modifier>>& recipe_modifiers() const { return modifiers_; }
  bool initialized() const { return initialized_; }
  bool finalized() const { return finalized_; }
  int64_t global_step() const { return global_step_; }

  // Restricts events to `only` while alive: the independent pipeline gives each modifier its
  // own calibration epoch this way (upstream patches recipe.modifiers).
  class ScopedModifiers {
   public:
    ScopedModifiers(Lifecycle& lifecycle, std::vector<std::shared_ptr<Modifier>> only);
    ~ScopedModifiers();
    ScopedModifiers(const ScopedModifiers&) = delete;
    ScopedModifiers& operator=(const ScopedModifiers&) = delete;

   private:
    Lifecycle& lifecycle_;
    std::optional<std::vector<std::shared_ptr<Modifier>>> previous_;
  };

 private:
  bool validate_event_order(EventType type);

  State state_;
  std::vector<std::shared_ptr<Modifier>> modifiers_;
  std::optional<std::vector<std::shared_ptr<Modifier>>> active_;
  bool initialized_ = false;
  bool finalized_ = false;
  EventType last_event_type_ = EventType::BATCH_END;
  int64_t global_step_ = 0;
};

}  // namespace llmc
