#include <llmc/pipelines/pipelines.hpp>
#include <llmc/pipelines/registry.hpp>

namespace llmc {

void independent_pipeline(Session& session) {
  Lifecycle& lifecycle = session.lifecycle();
  const std::vector<std::shared_ptr<Modifier>> modifiers = lifecycle.modifiers();
  for (const auto& modifier : modifiers) {
    Lifecycle::ScopedModifiers only_this(lifecycle, {modifier});
    const std::string name = resolve_pipeline(session, {modifier}, std::nullopt);
    pipeline_registry().get(name)(session);
  }
}

}  // namespace llmc
