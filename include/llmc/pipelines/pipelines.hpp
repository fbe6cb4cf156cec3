// The calibration pipelines of LC §1.5. Each sends CALIBRATION_START, SEQUENTIAL_EPOCH_END
// (with the modules it calibrated) and CALIBRATION_END to the session's active modifiers.
//
//   session.state().forward = llmc::module_forward(model.ptr());
//   session.state().calib_data = batches;
//   llmc::basic_pipeline(session);
#pragma once

#include <llmc/core/session.hpp>

namespace llmc {

// No forward pass: the three events, with every module of the model at the epoch end.
void datafree_pipeline(Session& session);

// Every calibration batch through State::forward (moved to the device of the model's first
// parameter, state.current_batch_idx set), under no-grad and eval mode, with quantization
// disabled on every llmc::nn::Linear and hooks active; then one epoch end over every module.
// Needs State::model and State::forward; no batches only adds a session warning.
void basic_pipeline(Session& session);

// Upstream traces the model into subgraphs (decoder layers), calibrates them one at a time and
// re-runs each with the updated weights to feed the next (LC §1.5). That tracing is not
// implemented: this runs the layer-agnostic equivalent, basic_pipeline with one epoch end over
// all modules. For modifiers that only observe (QuantizationModifier, imatrix collection) the
// statistics are the same, since upstream disables quantization in both passes and RTN leaves
// the weights alone; weight-rewriting modifiers (GPTQ) see full-precision inputs downstream
// instead of the already-quantized layers' outputs (no error propagation).
void sequential_pipeline(Session& session);

// One calibration per active modifier, in recipe order, each with the pipeline inferred for
// that modifier alone and with events reaching only that modifier (oneshot's default).
void independent_pipeline(Session& session);

}  // namespace llmc
