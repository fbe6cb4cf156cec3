#include <llmc/core/modifier_registry.hpp>
#include <llmc/error.hpp>

namespace llmc {

Registry<ModifierFactory>& modifier_registry() {
  static Registry<ModifierFactory> registry("modifier");
  return registry;
}

void register_modifier(const std::string& name, ModifierFactory factory) {
  modifier_registry().add(name, std::move(factory));
}

namespace {

std::string known_modifiers() {
  std::string known;
  for (const auto& name : modifier_registry().names()) known += (known.empty() ? "" : ", ") + name;
  return known.empty() ? "none registered" : known;
}

}  // namespace

std::unique_ptr<Modifier> create_modifier(const ModifierSpec& spec) {
  const auto& registry = modifier_registry();
  if (!registry.contains(spec.type)) {
    spec.fail("",
              "No modifier of type '" + spec.type + "' found (known: " + known_modifiers() + ")");
  }
  // Upstream's lookup is exact; the normalising registry only serves the hint.
  const std::string& canonical = registry.canonical_name(spec.type);
  if (canonical != spec.type) {
    spec.fail("",
              "No modifier of type '" + spec.type + "' found; did you mean '" + canonical + "'?");
  }
  std::unique_ptr<Modifier> modifier = registry.get(spec.type)(spec);
  if (!modifier) spec.fail("", "the factory of '" + spec.type + "' returned no modifier");
  return modifier;
}

}  // namespace llmc
