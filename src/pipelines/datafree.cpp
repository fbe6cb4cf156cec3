#include <llmc/error.hpp>
#include <llmc/pipelines/pipelines.hpp>

namespace llmc {

void datafree_pipeline(Session& session) {
  const auto& model = session.state().model;
  if (!model) throw Error("datafree pipeline: State::model is not set");
  session.event(EventType::CALIBRATION_START);
  EventInputs epoch_end;
  epoch_end.modules = nn::named_modules(*model);
  session.event(EventType::SEQUENTIAL_EPOCH_END, epoch_end);
  session.event(EventType::CALIBRATION_END);
}

}  // namespace llmc
