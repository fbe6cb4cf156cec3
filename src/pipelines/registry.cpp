#include <llmc/pipelines/pipelines.hpp>
#include <llmc/pipelines/registry.hpp>

namespace llmc {

Registry<CalibrationPipeline>& pipeline_registry() {
  static Registry<CalibrationPipeline> registry = [] {
    Registry<CalibrationPipeline> built("calibration pipeline");
    built.add("datafree", datafree_pipeline);
    built.add("basic", basic_pipeline);
    built.add("sequential", sequential_pipeline);
    built.add("independent", independent_pipeline);
    return built;
  }();
  return registry;
}

void register_pipeline(const std::string& name, CalibrationPipeline pipeline) {
  pipeline_registry().add(name, std::move(pipeline));
}

std::string infer_pipeline(const std::vector<std::shared_ptr<Modifier>>& modifiers) {
  for (const auto& modifier : modifiers) {
    if (modifier->requires_calibration_data()) return "sequential";
  }
  return "datafree";
}

std::string resolve_pipeline(Session& session,
                             const std::vector<std::shared_ptr<Modifier>>& modifiers,
                             const std::optional<std::string>& user) {
  std::string inferred = standardize_lookup_name(infer_pipeline(modifiers));
  const std::string independent = standardize_lookup_name("independent");
  if (!user) return pipeline_registry().canonical_name(inferred);
  const std::string chosen = standardize_lookup_name(*user);
  if (chosen == independent) inferred = independent;
  if (chosen != inferred) {
    session.warn("Calibration pipeline is set to `" + chosen + "`, but it is recommended to use `" +
                 inferred + "`");
  }
  return pipeline_registry().canonical_name(chosen);
}

void run_calibration(Session& session, const std::optional<std::string>& user) {
  const std::string name = resolve_pipeline(session, session.lifecycle().modifiers(), user);
  pipeline_registry().get(name)(session);
}

}  // namespace llmc
