// Test modifier that records every lifecycle hook it receives into a shared log, so lifecycle
// and pipeline tests can assert order and recipients. "name:hook" entries.
#pragma once

#include <llmc/core/modifier.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmc::test {

using EventLog = std::vector<std::string>;

class RecordingModifier : public llmc::Modifier {
 public:
  RecordingModifier(std::string name, std::shared_ptr<EventLog> log, bool needs_data = false)
      : name_(std::move(name)), log_(std::move(log)) {
    requires_calibration_data_ = needs_data;
  }
  std::string type() const override { return "RecordingModifier"; }

  bool throw_on_finalize = false;

 protected:
  bool on_initialize(State&) override {
    record("initialize");
    return true;
  }
  bool on_finalize(State&) override {
    record("finalize");
    if (throw_on_finalize) throw std::runtime_error(name_ + " refuses to finalize");
    return true;
  }
  void on_start(State&, const Event&) override { record("start"); }
  void on_update(State&, const Event&) override { record("update"); }
  void on_end(State&, const Event&) override { record("end"); }
  void on_calibration_start(State&, const Event&) override { record("calibration_start"); }
  void on_sequential_epoch_end(State&, const Event&,
                               const std::vector<nn::NamedModule>& modules) override {
    record("sequential_epoch_end(" + std::to_string(modules.size()) + ")");
  }
  void on_calibration_end(State&, const Event&) override { record("calibration_end"); }

  void record(const std::string& hook) { log_->push_back(name_ + ":" + hook); }

 private:
  std::string name_;
  std::shared_ptr<EventLog> log_;
};

}  // namespace llmc::test
