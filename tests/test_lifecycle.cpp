// Modifier and Lifecycle semantics of LC §1.1 / §1.3: order of hooks, and every misuse error.
#include <llmc/core/lifecycle.hpp>
#include <llmc/core/session.hpp>

#include "support/catch.hpp"
#include "support/error_of.hpp"
#include "test_lifecycle_recorder.hpp"

using llmc::EventType;
using llmc::test::error_of;
using llmc::test::EventLog;
using llmc::test::RecordingModifier;

namespace {

struct Fixture {
  std::shared_ptr<EventLog> log = std::make_shared<EventLog>();
  std::shared_ptr<RecordingModifier> a = std::make_shared<RecordingModifier>("a", log);
  std::shared_ptr<RecordingModifier> b = std::make_shared<RecordingModifier>("b", log);
  llmc::Lifecycle lifecycle;

  void initialize() { lifecycle.initialize({a, b}); }
};

}  // namespace

TEST_CASE("Lifecycle runs every modifier's hooks in recipe order through a calibration epoch") {
  Fixture f;
  f.initialize();
  f.lifecycle.event(EventType::CALIBRATION_START);
  f.lifecycle.event(EventType::SEQUENTIAL_EPOCH_END);
  f.lifecycle.event(EventType::CALIBRATION_END);
  f.lifecycle.finalize();
  CHECK(*f.log == EventLog{"a:initialize", "b:initialize", "a:calibration_start",
                           "b:calibration_start", "a:sequential_epoch_end(0)",
                           "b:sequential_epoch_end(0)", "a:calibration_end", "b:calibration_end",
                           "a:finalize", "b:finalize"});
  CHECK(f.a->started());
  CHECK(f.a->ended());
  CHECK(f.b->finalized());
}

TEST_CASE("Modifier.initialize twice is an error") {
  Fixture f;
  llmc::State state;
  f.a->initialize(state);
  CHECK_THAT(error_of([&] { f.a->initialize(state); }),
             Catch::Equals("RecordingModifier: Cannot initialize a modifier that has already "
                           "been initialized"));
}

TEST_CASE("Modifier.update_event before initialize or after finalize is an error") {
  Fixture f;
  llmc::State state;
  const llmc::Event event{.type = EventType::CALIBRATION_START};
  CHECK_THAT(error_of([&] { f.a->update_event(state, event); }),
             Catch::Contains("Cannot update an uninitialized modifier"));
  f.a->initialize(state);
  f.a->finalize(state);
  CHECK_THAT(error_of([&] { f.a->update_event(state, event); }),
             Catch::Contains("Cannot update a finalized modifier"));
}

TEST_CASE("Modifier.finalize before initialize or twice is an error") {
  Fixture f;
  llmc::State state;
  CHECK_THAT(error_of([&] { f.a->finalize(state); }),
             Catch::Contains("cannot finalize an uninitialized modifier"));
  f.a->initialize(state);
  f.a->finalize(state);
  CHECK_THAT(error_of([&] { f.a->finalize(state); }),
             Catch::Contains("cannot finalize a modifier twice"));
}

TEST_CASE("Lifecycle rejects events before initialize and after finalize") {
  Fixture f;
  CHECK_THAT(error_of([&] { f.lifecycle.event(EventType::CALIBRATION_START); }),
             Catch::Contains("Cannot invoke event before initializing"));
  f.initialize();
  f.lifecycle.finalize();
  CHECK_THAT(error_of([&] { f.lifecycle.event(EventType::CALIBRATION_START); }),
             Catch::Contains("Cannot invoke event after finalizing"));
}

TEST_CASE("Lifecycle rejects INITIALIZE and FINALIZE as events") {
  Fixture f;
  f.initialize();
  CHECK_THAT(error_of([&] { f.lifecycle.event(EventType::INITIALIZE); }),
             Catch::Contains("Cannot invoke EventType.INITIALIZE event. Use the corresponding "
                             "method instead."));
  CHECK_THAT(error_of([&] { f.lifecycle.event(EventType::FINALIZE); }),
             Catch::Contains("Cannot invoke EventType.FINALIZE event"));
}

TEST_CASE("Lifecycle finalize before initialize or twice is an error") {
  Fixture f;
  CHECK_THAT(error_of([&] { f.lifecycle.finalize(); }),
             Catch::Contains("Cannot finalize before initializing"));
  f.initialize();
  f.lifecycle.finalize();
  CHECK_THAT(error_of([&] { f.lifecycle.finalize(); }),
             Catch::Contains("Cannot finalize more than once"));
}

TEST_CASE("LOSS_CALCULATED needs a loss") {
  Fixture f;
  f.initialize();
  f.lifecycle.event(EventType::BATCH_START);
  CHECK_THAT(error_of([&] { f.lifecycle.event(EventType::LOSS_CALCULATED); }),
             Catch::Contains("Loss must be provided for loss calculated event"));
  llmc::EventInputs with_loss;
  with_loss.loss = torch::tensor(1.5);
  f.lifecycle.event(EventType::LOSS_CALCULATED, with_loss);
  REQUIRE(f.lifecycle.state().loss.has_value());
  CHECK(f.lifecycle.state().loss->item<double>() == 1.5);
}

TEST_CASE("A full training step in order is accepted, and may repeat") {
  Fixture f;
  f.initialize();
  llmc::EventInputs with_loss;
  with_loss.loss = torch::tensor(0.0);
  for (int step = 0; step < 2; ++step) {
    f.lifecycle.event(EventType::BATCH_START);
    f.lifecycle.event(EventType::LOSS_CALCULATED, with_loss);
    f.lifecycle.event(EventType::OPTIM_PRE_STEP);
    f.lifecycle.event(EventType::OPTIM_POST_STEP);
    f.lifecycle.event(EventType::BATCH_END);
  }
  SUCCEED("no ordering error");
}

TEST_CASE("BATCH_START twice in a row violates the training-event order") {
  Fixture f;
  f.initialize();
  f.lifecycle.event(EventType::BATCH_START);
  CHECK_THAT(error_of([&] { f.lifecycle.event(EventType::BATCH_START); }),
             Catch::Contains("Lifecycle events must appear following order: "
                             "[EventType.BATCH_START, EventType.LOSS_CALCULATED, "
                             "EventType.OPTIM_PRE_STEP, EventType.OPTIM_POST_STEP, "
                             "EventType.BATCH_END]. Instead, EventType.BATCH_START was called "
                             "before EventType.BATCH_START"));
}

TEST_CASE("A training event after a later one in the order is an error") {
  Fixture f;
  f.initialize();
  f.lifecycle.event(EventType::BATCH_START);
  f.lifecycle.event(EventType::OPTIM_POST_STEP);
  CHECK_THAT(error_of([&] { f.lifecycle.event(EventType::OPTIM_PRE_STEP); }),
             Catch::Contains("EventType.OPTIM_POST_STEP was called before "
                             "EventType.OPTIM_PRE_STEP"));
}

TEST_CASE("The lifecycle starts as if a batch had just ended: OPTIM_PRE_STEP first is an error") {
  Fixture f;
  f.initialize();
  CHECK_THAT(error_of([&] { f.lifecycle.event(EventType::OPTIM_PRE_STEP); }),
             Catch::Contains("EventType.BATCH_END was called before EventType.OPTIM_PRE_STEP"));
}

TEST_CASE("Calibration events are not order-checked against training events") {
  Fixture f;
  f.initialize();
  f.lifecycle.event(EventType::BATCH_START);
  f.lifecycle.event(EventType::CALIBRATION_END);
  f.lifecycle.event(EventType::CALIBRATION_START);
  CHECK_THAT(error_of([&] { f.lifecycle.event(EventType::BATCH_START); }),
             Catch::Contains("EventType.BATCH_START was called before EventType.BATCH_START"));
}

TEST_CASE("Lifecycle.initialize on an initialized lifecycle keeps the first modifiers") {
  Fixture f;
  llmc::Session session;
  session.initialize({f.a});
  session.initialize({f.b});
  REQUIRE(session.lifecycle().modifiers().size() == 1);
  CHECK(session.lifecycle().modifiers()[0] == f.a);
  CHECK_FALSE(f.b->initialized());
  REQUIRE(session.warnings().size() == 1);
  CHECK_THAT(session.warnings()[0], Catch::Contains("already initialized"));
}

TEST_CASE("reset finalizes live modifiers, swallows their errors and starts over") {
  Fixture f;
  llmc::Session session;
  f.a->throw_on_finalize = true;
  session.initialize({f.a, f.b});
  session.reset();
  CHECK(*f.log == EventLog{"a:initialize", "b:initialize", "a:finalize", "b:finalize"});
  CHECK(f.b->finalized());
  CHECK_FALSE(session.lifecycle().initialized());
  CHECK(session.lifecycle().modifiers().empty());
  REQUIRE(session.warnings().size() == 1);
  CHECK_THAT(session.warnings()[0], Catch::Contains("a refuses to finalize"));
}

TEST_CASE("A modifier with start/end starts at initialize and ends at the BATCH_END past end") {
  Fixture f;
  f.a->start = 0.0;
  f.a->end = 2.0;
  f.lifecycle.initialize({f.a});
  CHECK(f.a->started());
  llmc::EventInputs step;
  for (int64_t s : {1, 2}) {
    step.global_step = s;
    f.lifecycle.event(EventType::BATCH_START, step);
    f.lifecycle.event(EventType::BATCH_END, step);
  }
  CHECK(*f.log == EventLog{"a:initialize", "a:start", "a:update", "a:update", "a:update", "a:end",
                           "a:update"});
  CHECK(f.a->ended());
}

TEST_CASE("A modifier without start never starts on training events") {
  Fixture f;
  f.lifecycle.initialize({f.a});
  f.lifecycle.event(EventType::BATCH_START);
  f.lifecycle.event(EventType::BATCH_END);
  CHECK(*f.log == EventLog{"a:initialize"});
  CHECK_FALSE(f.a->started());
}

TEST_CASE("Event.current_index is the global step, or the fractional epoch when epoch based") {
  llmc::Event event{.type = EventType::BATCH_START, .global_step = 5};
  CHECK(event.current_index() == 5.0);
  event.steps_per_epoch = 10;
  CHECK(event.current_index() == 0.5);
  event.batches_per_step = 4;
  event.set_current_index(1.5);
  CHECK(event.global_step == 15);
  CHECK(event.global_batch == 60);
  CHECK(event.should_update(1.0, 2.0, 0.5));
  CHECK_FALSE(event.should_update(1.0, 2.0, 0.4));
  CHECK_FALSE(event.should_update(1.6, std::nullopt, std::nullopt));
}

TEST_CASE("SessionScope makes a session active on this thread and restores the previous one") {
  llmc::Session& outer = llmc::active_session();
  Fixture f;
  {
    llmc::SessionScope scope;
    CHECK(&llmc::active_session() == &scope.session());
    scope.session().initialize({f.a});
    llmc::callbacks::calibration_start();
    llmc::callbacks::calibration_end();
  }
  CHECK(&llmc::active_session() == &outer);
  CHECK(*f.log == EventLog{"a:initialize", "a:calibration_start", "a:calibration_end"});
}
