#include <cmath>
#include <llmc/core/event.hpp>

namespace llmc {

std::string to_string(EventType type) {
  switch (type) {
    case EventType::INITIALIZE:
      return "initialize";
    case EventType::FINALIZE:
      return "finalize";
    case EventType::BATCH_START:
      return "batch_start";
    case EventType::LOSS_CALCULATED:
      return "loss_calculated";
    case EventType::BATCH_END:
      return "batch_end";
    case EventType::CALIBRATION_START:
      return "calibration_start";
    case EventType::SEQUENTIAL_EPOCH_END:
      return "sequential_epoch_end";
    case EventType::CALIBRATION_END:
      return "calibration_end";
    case EventType::OPTIM_PRE_STEP:
      return "optim_pre_step";
    case EventType::OPTIM_POST_STEP:
      return "optim_post_step";
  }
  return "unknown";
}

double Event::current_index() const {
  // Upstream also raises when the fractional part exceeds 1, which floor division makes
  // impossible; there is no such check here.
  if (!epoch_based()) return static_cast<double>(global_step);
  return static_cast<double>(global_step) / static_cast<double>(*steps_per_epoch);
}

void Event::set_current_index(double value) {
  global_step = epoch_based() ? static_cast<int64_t>(value * static_cast<double>(*steps_per_epoch))
                              : static_cast<int64_t>(value);
  const bool scaled = batches_per_step.has_value() && *batches_per_step >= 2;
  global_batch = scaled ? global_step * *batches_per_step : global_step;
}

bool Event::should_update(std::optional<double> start, std::optional<double> end,
                          std::optional<double> update) const {
  const double current = current_index();
  if (start && current < *start) return false;
  if (end && current > *end) return false;
  // Python's float % takes the sign of the divisor; update > 0 here.
  return !update || *update <= 0.0 || current - *update * std::floor(current / *update) < 1e-10;
}

}  // namespace llmc
