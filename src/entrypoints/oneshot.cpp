#include <llmc/core/modifier_registry.hpp>
#include <llmc/entrypoints/oneshot.hpp>
#include <llmc/dist/rank_partition.hpp>
#include <llmc/error.hpp>
#include <llmc/pipelines/registry.hpp>

namespace llmc {

std::vector<std::shared_ptr<Modifier>> create_modifiers(const Recipe& recipe) {
  std::vector<std::shared_ptr<Modifier>> modifiers;
  for (const auto& spec : recipe.modifiers()) modifiers.push_back(create_modifier(spec));
  return modifiers;
}

Recipe recipe_of(const std::vector<std::shared_ptr<Modifier>>& modifiers,
                 const std::string& stage) {
  std::vector<ModifierSpec> specs;
  for (const auto& modifier : modifiers) {
    ModifierSpec spec;
    spec.type = modifier->type();
    spec.stage = stage.empty() ? "default" : stage;
    spec.group = modifier->group.value_or(spec.stage);
    spec.args = modifier->args_json();
    specs.push_back(std::move(spec));
  }
  return Recipe::from_specs(std::move(specs), stage);
}

OneshotResult oneshot(Session& session, std::vector<std::shared_ptr<Modifier>> modifiers,
                      const OneshotOptions& options) {
  State& state = session.state();
  if (!state.model) throw Error("oneshot: no model (set session.state().model)");
  if (!state.calib_data.empty() && !state.forward) {
    throw Error("oneshot: calibration batches but no forward (set session.state().forward)");
  }
  if (options.process_group()) {
    state.process_group = options.process_group();
  } else if (!state.process_group) {
    state.process_group = dist::ProcessGroup::from_env();
  }
  OneshotResult result;
  result.modifiers = modifiers;
  result.process_group = state.process_group;
  // This rank's slice of the batches for the run; the caller's full list comes back after it.
  CalibrationData all_batches;
  const bool partitioned = state.process_group && options.partition_data();
  if (partitioned) {
    all_batches = state.calib_data;
    state.calib_data = dist::partition_for_rank(all_batches, state.process_group->rank(),
                                                state.process_group->world_size());
  }
  struct RestoreBatches {
    State& state;
    CalibrationData& all;
    bool active;
    ~RestoreBatches() {
      if (active) state.calib_data = std::move(all);
    }
  } restore{state, all_batches, partitioned};
  const size_t warnings_before = session.warnings().size();
  try {
    session.initialize(std::move(modifiers));
    result.pipeline =
        resolve_pipeline(session, session.lifecycle().modifiers(), options.pipeline());
    pipeline_registry().get(result.pipeline)(session);
    session.finalize();
  } catch (...) {
    // Leave no hooks, observers or importance behind on the caller's model: finalizing
    // removes them (errors while doing so are swallowed into warnings).
    if (session.lifecycle().initialized() && !session.lifecycle().finalized()) {
      for (const auto& modifier : session.lifecycle().recipe_modifiers()) {
        if (!modifier->initialized() || modifier->finalized()) continue;
        try {
          modifier->finalize(state);
        } catch (...) {
        }
      }
    }
    throw;
  }
  result.recipe = recipe_of(result.modifiers);
  result.warnings.assign(session.warnings().begin() + static_cast<long>(warnings_before),
                         session.warnings().end());
  for (const auto& modifier : result.modifiers) {
    for (const auto& w : modifier->warnings()) result.warnings.push_back(modifier->type() + ": " + w);
  }
  return result;
}

OneshotResult oneshot(Session& session, const Recipe& recipe, const OneshotOptions& options) {
  std::vector<std::shared_ptr<Modifier>> modifiers;
  for (const auto& spec : recipe.modifiers()) {
    if (!options.stage().empty() && spec.stage.rfind(options.stage(), 0) != 0) continue;
    modifiers.push_back(create_modifier(spec));
  }
  if (modifiers.empty()) {
    throw Error("oneshot: the recipe has no modifiers" +
                (options.stage().empty() ? std::string()
                                         : " in stages starting with '" + options.stage() + "'"));
  }
  return oneshot(session, std::move(modifiers), options);
}

OneshotResult oneshot(std::shared_ptr<torch::nn::Module> model, ModelForward forward,
                      CalibrationData batches, const Recipe& recipe,
                      const OneshotOptions& options) {
  Session session;
  session.state().model = std::move(model);
  session.state().forward = std::move(forward);
  session.state().calib_data = std::move(batches);
  return oneshot(session, recipe, options);
}

}  // namespace llmc
