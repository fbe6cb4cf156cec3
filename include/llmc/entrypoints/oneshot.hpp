// oneshot: compress a model in one call — parse the recipe's modifiers, initialize them,
// calibrate with the chosen pipeline, finalize (LC §1.4). The model is any torch::nn::Module
// whose linear layers are llmc::nn::Linear; afterwards their qparams (weight_scale, ...) hold
// the result and quantization is enabled (the forward fake-quantizes).
//
//   auto model = std::make_shared<MyModel>();
//   std::vector<torch::Tensor> batches = ...;
//   llmc::OneshotResult r = llmc::oneshot(model, batches,
//                                         llmc::Recipe::from_file("recipes/imatrix_w4a16.yaml"));
//
// Finer control (events, several stages) goes through llmc::Session: oneshot(session, recipe)
// runs on the session's State (model, forward, calib_data) and leaves the session finalized.
#pragma once

#include <torch/arg.h>

#include <llmc/core/modifier.hpp>
#include <llmc/core/session.hpp>
#include <llmc/core/state.hpp>
#include <llmc/dist/process_group.hpp>
#include <llmc/recipe/recipe.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llmc {

struct OneshotOptions {
  // Calibration pipeline (LC §1.5): "independent" (upstream's default: one calibration epoch
  // per modifier), "sequential", "basic" or "datafree"; a choice differing from the inferred
  // one is warned about.
  TORCH_ARG(std::string, pipeline) = "independent";
  // Keep only the recipe stages whose name starts with this (upstream's `stage`).
  TORCH_ARG(std::string, stage) = "";
  // The ranks to calibrate with. Null: the session state's group if it has one, else one made
  // from torchrun's environment (ProcessGroup::from_env; none for a world of one). A process
  // hosts one group per MASTER_PORT: to call oneshot more than once under torchrun, create the
  // group once and pass it here.
  TORCH_ARG(std::shared_ptr<dist::ProcessGroup>, process_group) = nullptr;
  // Under a group, each rank calibrates on its slice [floor(N·r/W), floor(N·(r+1)/W)) of the N
  // batches (upstream's automatic sharding when every rank loads the same data set). false when
  // the caller already gave each rank its own shard.
  TORCH_ARG(bool, partition_data) = true;
};

struct OneshotResult {
  // The modifiers as they ran, in recipe order (their resolved configs, targeted modules).
  std::vector<std::shared_ptr<Modifier>> modifiers;
  // The recipe the modifiers serialise to (upstream's get_serialized_recipe), stage form.
  Recipe recipe;
  // The pipeline that ran and what upstream would have logged as warnings.
  std::string pipeline;
  std::vector<std::string> warnings;
  // The group the run used (null for a world of one): every rank holds identical qparams; only
  // its source rank (is_source(), rank 0) should write files.
  std::shared_ptr<dist::ProcessGroup> process_group;
};

// Builds every modifier of `recipe` from the modifier registry (errors carry recipe locations).
std::vector<std::shared_ptr<Modifier>> create_modifiers(const Recipe& recipe);

// The recipe a list of modifiers serialises to: one stage `stage`, each modifier's group, its
// args_json().
Recipe recipe_of(const std::vector<std::shared_ptr<Modifier>>& modifiers,
                 const std::string& stage = "default");

// Runs on `session`'s State (model, forward and calib_data must be set): initialize with the
// recipe's modifiers, run the pipeline, finalize. Under a process group the state's calib_data
// is only narrowed to this rank's slice for the run (restored afterwards), and the state keeps
// the group.
OneshotResult oneshot(Session& session, const Recipe& recipe, const OneshotOptions& options = {});
OneshotResult oneshot(Session& session, std::vector<std::shared_ptr<Modifier>> modifiers,
                      const OneshotOptions& options = {});

// A fresh session over `model`, `forward` (how to run one batch) and the batches.
OneshotResult oneshot(std::shared_ptr<torch::nn::Module> model, ModelForward forward,
                      CalibrationData batches, const Recipe& recipe,
                      const OneshotOptions& options = {});

// For models with a one-tensor forward (a module holder's pointer or a shared_ptr to a module).
template <typename ModuleType>
OneshotResult oneshot(std::shared_ptr<ModuleType> model, CalibrationData batches,
                      const Recipe& recipe, const OneshotOptions& options = {}) {
  ModelForward forward = module_forward(model);
  return oneshot(std::static_pointer_cast<torch::nn::Module>(std::move(model)), std::move(forward),
                 std::move(batches), recipe, options);
}

}  // namespace llmc
