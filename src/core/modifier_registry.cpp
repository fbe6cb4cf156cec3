#include <llmc/core/modifier_registry.hpp>
#include <llmc/error.hpp>
#include <llmc/modifiers/imatrix_gatherer.hpp>
#include <llmc/modifiers/quantization_modifier.hpp>

namespace llmc {
namespace {

template <typename T>
ModifierFactory factory_of() {
  return [](const ModifierSpec& spec) -> std::unique_ptr<Modifier> {
    return std::make_unique<T>(spec);
  };
}

// The built-in modifiers, registered here explicitly (a static library drops unreferenced
// self-registering objects).
void register_builtin_modifiers(Registry<ModifierFactory>& registry) {
  registry.add("QuantizationModifier", factory_of<QuantizationModifier>());
  registry.add("IMatrixGatherer", factory_of<IMatrixGatherer>());
}

}  // namespace

Registry<ModifierFactory>& modifier_registry() {
  static Registry<ModifierFactory> registry = [] {
    Registry<ModifierFactory> r("modifier");
    register_builtin_modifiers(r);
    return r;
  }();
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
