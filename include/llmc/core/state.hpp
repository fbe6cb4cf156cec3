// State: what modifiers see of a compression run (LC §1.3 `State`): the model, how to run it
// on a calibration batch, the batches, and per-batch bookkeeping.
//
//   llmc::State& s = session.state();
//   s.model = model.ptr();
//   s.forward = llmc::module_forward(model.ptr());
//   s.calib_data = batches;
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace llmc {

namespace dist {
class ProcessGroup;
}

// Runs the model on one calibration batch; the output is discarded (pipelines only need the
// hooks to fire, as upstream's `model(**batch)`). A std::function rather than a module type,
// because torch::nn::Module has no virtual forward: any model (a module holder, a forward with
// extra arguments such as an attention mask) fits behind a lambda.
using ModelForward = std::function<void(const torch::Tensor& batch)>;

// Calibration batches in order; each one is passed whole to ModelForward (upstream's dataloader
// with its batch size already applied). Moved to the model's device before the forward.
using CalibrationData = std::vector<torch::Tensor>;

// A ModelForward calling `module->forward(batch)` for any module with a one-tensor forward.
template <typename ModuleType>
ModelForward module_forward(std::shared_ptr<ModuleType> module) {
  return [module = std::move(module)](const torch::Tensor& batch) { module->forward(batch); };
}

struct State {
  std::shared_ptr<torch::nn::Module> model;
  std::shared_ptr<torch::nn::Module> teacher_model;
  ModelForward forward;
  CalibrationData calib_data;
  std::optional<torch::Tensor> loss;        // from LOSS_CALCULATED
  std::optional<torch::Tensor> batch_data;  // from BATCH_START
  int64_t current_batch_idx = -1;           // set by the basic pipeline before each forward
  // The ranks of a distributed run (llmc/dist/process_group.hpp); null for a world of one.
  // Modifiers all-reduce their observers' statistics over it at SEQUENTIAL_EPOCH_END.
  std::shared_ptr<dist::ProcessGroup> process_group;
};

}  // namespace llmc
