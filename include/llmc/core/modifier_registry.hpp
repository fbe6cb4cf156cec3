// Modifier registry: recipe class names ("QuantizationModifier", "IMatrixGatherer") → factories
// building a Modifier from its ModifierSpec (LC §2.3). Lookup is exact and case-sensitive like
// upstream's ModifierFactory; a near miss ("quantizationmodifier") names the right spelling.
//
//   llmc::register_modifier("MyModifier", [](const llmc::ModifierSpec& spec) {
//     return std::make_unique<MyModifier>(spec); });
//   std::unique_ptr<llmc::Modifier> m = llmc::create_modifier(spec);
#pragma once

#include <functional>
#include <llmc/core/modifier.hpp>
#include <llmc/core/registry.hpp>
#include <llmc/recipe/modifier_spec.hpp>
#include <memory>
#include <string>

namespace llmc {

using ModifierFactory = std::function<std::unique_ptr<Modifier>(const ModifierSpec& spec)>;

// The process-wide registry (filled by register_modifier; built-in modifiers register
// themselves explicitly from here on first use, since a static library drops unreferenced
// self-registering objects).
Registry<ModifierFactory>& modifier_registry();

// Adds a modifier class; a name that normalises to a registered one throws llmc::Error.
void register_modifier(const std::string& name, ModifierFactory factory);

// Builds spec.type. Unknown or differently spelt names fail through spec.fail (recipe location,
// the known names); factory errors are llmc::Errors raised through spec.fail too.
std::unique_ptr<Modifier> create_modifier(const ModifierSpec& spec);

}  // namespace llmc
