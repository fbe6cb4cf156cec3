// Calibration pipelines by name (LC §1.5): "datafree", "basic", "sequential", "independent",
// looked up like upstream's registry (case-insensitive, '_' and ' ' read as '-'), and the rule
// that picks one from the modifiers.
//
//   llmc::run_calibration(session);              // oneshot's default, "independent"
//   llmc::run_calibration(session, "datafree");  // a user choice, warned about if it differs
#pragma once

#include <functional>
#include <llmc/core/modifier.hpp>
#include <llmc/core/registry.hpp>
#include <llmc/core/session.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llmc {

// Runs one calibration over session.state() (model, forward, calib_data), sending the
// CALIBRATION_START … CALIBRATION_END events to the session's active modifiers.
using CalibrationPipeline = std::function<void(Session& session)>;

// The built-in pipelines are registered on first use.
Registry<CalibrationPipeline>& pipeline_registry();
void register_pipeline(const std::string& name, CalibrationPipeline pipeline);

// "sequential" if any modifier requires calibration data, else "datafree"; never "basic".
std::string infer_pipeline(const std::vector<std::shared_ptr<Modifier>>& modifiers);

// upstream CalibrationPipeline.from_modifiers: the user's choice wins; "independent" is taken
// silently, any other choice that differs from the inferred one adds a warning to `session`.
// Returns the registered name to run; unknown names throw llmc::Error listing the known ones.
std::string resolve_pipeline(Session& session,
                             const std::vector<std::shared_ptr<Modifier>>& modifiers,
                             const std::optional<std::string>& user);

// resolve_pipeline over the session's active modifiers, then runs it. The default is
// oneshot's `pipeline="independent"`.
void run_calibration(Session& session,
                     const std::optional<std::string>& user = std::string("independent"));

}  // namespace llmc
