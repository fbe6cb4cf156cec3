// Session: one compression run — a Lifecycle plus the warnings that upstream would only log
// (LC §1.3 CompressionSession). Pass it explicitly, or make it the thread's active session for
// code written against upstream's active_session() / LifecycleCallbacks.
//
//   llmc::Session session;
//   session.state().model = model.ptr();
//   session.initialize(modifiers);
//   llmc::run_calibration(session);  // pipelines/registry.hpp
//   session.finalize();
#pragma once

#include <llmc/core/lifecycle.hpp>
#include <memory>
#include <string>
#include <vector>

namespace llmc {

class Session {
 public:
  Lifecycle& lifecycle() { return lifecycle_; }
  const Lifecycle& lifecycle() const { return lifecycle_; }
  State& state() { return lifecycle_.state(); }
  const State& state() const { return lifecycle_.state(); }

  // Lifecycle::initialize; a second call keeps the first modifiers (as upstream) and records a
  // warning saying so.
  void initialize(std::vector<std::shared_ptr<Modifier>> modifiers);
  void event(EventType type, const EventInputs& inputs = {});
  void finalize();
  // Lifecycle::reset; errors swallowed while finalizing become warnings.
  void reset();
  void reset_stage() { lifecycle_.reset_stage(); }

  // What upstream logs with logger.warning (pipeline mismatch, ignored re-initialisation, ...),
  // in order, for reports and tests; also printed nowhere.
  void warn(std::string message) { warnings_.push_back(std::move(message)); }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  Lifecycle lifecycle_;
  std::vector<std::string> warnings_;
};

// The calling thread's active session: the innermost live SessionScope's, else a per-thread
// default session. Thread-local state is the only mutable global here (upstream keeps its
// default in a module global shared by threads; ours is per thread).
Session& active_session();

// RAII like upstream's create_session(): makes a new (or the given) session active on this
// thread and restores the previous one on exit.
class SessionScope {
 public:
  SessionScope();
  explicit SessionScope(Session& session);
  ~SessionScope();
  SessionScope(const SessionScope&) = delete;
  SessionScope& operator=(const SessionScope&) = delete;

  Session& session() { return *session_; }

 private:
  std::unique_ptr<Session> owned_;
  Session* session_;
  Session* previous_;
};

// upstream LifecycleCallbacks: events on active_session().
namespace callbacks {
void batch_start(const torch::Tensor& batch_data = {});
void loss_calculated(const torch::Tensor& loss);
void optim_pre_step();
void optim_post_step();
void batch_end();
void calibration_start();
void sequential_epoch_end(std::vector<nn::NamedModule> modules);
void calibration_end();
}  // namespace callbacks

}  // namespace llmc
