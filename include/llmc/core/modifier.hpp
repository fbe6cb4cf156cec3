// Modifier: the base of every recipe entry (LC §1.1): initialize / update_event / finalize with
// upstream's flags, misuse errors and dispatch to the on_* hooks that subclasses override,
// plus HooksMixin's bookkeeping of the hooks a modifier registers.
//
//   class MyModifier : public llmc::Modifier {
//     std::string type() const override { return "MyModifier"; }
//     bool on_initialize(llmc::State& state) override { ...; return true; }
//   };
#pragma once

#include <llmc/core/event.hpp>
#include <llmc/core/state.hpp>
#include <llmc/nn/hooks.hpp>
#include <llmc/nn/linear.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace llmc {

class Modifier {
 public:
  virtual ~Modifier();

  // Upstream class name ("QuantizationModifier"): the recipe key and the error context.
  virtual std::string type() const = 0;
  // Drives pipeline inference (LC §1.5). Upstream it is a field a recipe may set to true; the
  // default reads that field, subclasses that always need data return true.
  virtual bool requires_calibration_data() const { return requires_calibration_data_; }
  // The recipe kwargs this modifier round-trips to (LC §2.4 model_dump minus None values,
  // flags and `group`): subclasses put their own keys first, then append_common_args.
  virtual nlohmann::ordered_json args_json() const;

  void initialize(State& state);
  void update_event(State& state, const Event& event, const EventInputs& inputs = {});
  void finalize(State& state);

  // start ≤ current_index (< end when set); never when start is unset (PTQ modifiers).
  bool should_start(const Event& event) const;
  // end is set and current_index ≥ end.
  bool should_end(const Event& event) const;

  bool initialized() const { return initialized_; }
  bool finalized() const { return finalized_; }
  bool started() const { return started_; }
  bool ended() const { return ended_; }

  // Upstream's common fields (all optional); set from recipe kwargs by ModifierKwargs.
  std::optional<int64_t> index;
  std::optional<std::string> group;
  std::optional<double> start;
  std::optional<double> end;
  std::optional<double> update;
  void set_requires_calibration_data(bool value) { requires_calibration_data_ = value; }

  // HooksMixin: hooks registered through the modifier, removable together.
  nn::HookHandle register_forward_pre_hook(nn::LinearImpl& module,
                                           nn::LinearImpl::ForwardPreHook hook);
  nn::HookHandle register_forward_hook(nn::LinearImpl& module, nn::LinearImpl::ForwardHook hook);
  // Removes the given handles, or every hook this modifier registered when `handles` is empty.
  void remove_hooks(const std::vector<nn::HookHandle>& handles = {});
  const std::vector<nn::HookHandle>& hooks() const { return hooks_; }

  // What upstream would only log (modules calibrated without statistics, imatrix fallbacks),
  // in order; oneshot gathers them into its result and the run report.
  const std::vector<std::string>& warnings() const { return warnings_; }

 protected:
  virtual bool on_initialize(State& state) = 0;
  virtual bool on_finalize(State& state);
  virtual void on_event(State& state, const Event& event, const EventInputs& inputs);
  virtual void on_start(State& state, const Event& event);
  virtual void on_update(State& state, const Event& event);
  virtual void on_end(State& state, const Event& event);
  virtual void on_calibration_start(State& state, const Event& event);
  virtual void on_sequential_epoch_end(State& state, const Event& event,
                                       const std::vector<nn::NamedModule>& modules);
  virtual void on_calibration_end(State& state, const Event& event);

  // requires_calibration_data, index, start, end, update (unset ones left out), in upstream's
  // model_dump order.
  void append_common_args(nlohmann::ordered_json& args) const;

  void warn(std::string message) { warnings_.push_back(std::move(message)); }

  bool requires_calibration_data_ = false;
  std::vector<std::string> warnings_;

 private:
  [[noreturn]] void misuse(const std::string& message) const;

  bool initialized_ = false;
  bool finalized_ = false;
  bool started_ = false;
  bool ended_ = false;
  std::vector<nn::HookHandle> hooks_;
};

}  // namespace llmc
