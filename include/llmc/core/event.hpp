// Lifecycle events (LC §1.2): what a pipeline or training loop tells the modifiers, with
// upstream's names, and the step bookkeeping that decides when a modifier starts and ends.
//
//   llmc::Event e;
//   e.global_step = 3;
//   e.current_index();  // 3.0 (or global_step / steps_per_epoch when epoch based)
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <llmc/nn/modules.hpp>
#include <optional>
#include <string>
#include <vector>

namespace llmc {

// Enumerators spelt as upstream's EventType members; to_string gives upstream's values.
enum class EventType {
  INITIALIZE,
  FINALIZE,
  BATCH_START,
  LOSS_CALCULATED,
  BATCH_END,
  CALIBRATION_START,
  SEQUENTIAL_EPOCH_END,
  CALIBRATION_END,
  OPTIM_PRE_STEP,
  OPTIM_POST_STEP,
};

// "calibration_start", ... (upstream EventType.value).
std::string to_string(EventType type);

struct Event {
  EventType type = EventType::BATCH_START;
  std::optional<int64_t> steps_per_epoch;
  std::optional<int64_t> batches_per_step;
  int64_t invocations_per_step = 1;
  int64_t global_step = 0;
  int64_t global_batch = 0;

  bool epoch_based() const { return steps_per_epoch.has_value(); }
  // global_step when not epoch based, else the fractional epoch global_step / steps_per_epoch.
  double current_index() const;
  // Upstream's setter: global_step from the index, global_batch scaled by batches_per_step.
  void set_current_index(double value);
  // Inside [start, end] (either may be absent) and on an `update` interval (absent or ≤ 0:
  // always).
  bool should_update(std::optional<double> start, std::optional<double> end,
                     std::optional<double> update) const;
};

// What accompanies an event, upstream's **kwargs of Lifecycle.event: the loss for
// LOSS_CALCULATED, the batch for BATCH_START, the calibrated modules for SEQUENTIAL_EPOCH_END.
struct EventInputs {
  std::optional<torch::Tensor> loss;
  std::optional<torch::Tensor> batch_data;
  std::vector<nn::NamedModule> modules;
  // The lifecycle's global step after this event (upstream's event(..., global_step=0)).
  std::optional<int64_t> global_step = 0;
};

}  // namespace llmc
