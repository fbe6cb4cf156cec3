#include <llmc/core/registry.hpp>
#include <llmc/observers/observer_selection.hpp>

namespace llmc {

std::optional<std::string> resolve_observer_name(const std::string& base_name,
                                                 const QuantizationArgs& args) {
  if (args.dynamic() == DynamicType::Dynamic) return std::nullopt;
  if (!args.observer() || args.observer()->empty()) {
    return base_name == "weight" ? "memoryless_minmax" : "minmax";
  }
  const std::string& requested = *args.observer();
  if (base_name == "weight") {
    // Upstream compares exact strings here; we compare normalised names so "MinMax" is remapped
    // the same way the registry would resolve it.
    const std::string key = standardize_lookup_name(requested);
    if (key == "minmax" || key == "static-minmax") return "memoryless_minmax";
    if (key == "mse") return "memoryless_mse";
  }
  return requested;
}

std::unique_ptr<Observer> initialize_observer(const std::string& base_name,
                                              const QuantizationArgs& args) {
  const auto name = resolve_observer_name(base_name, args);
  if (!name) return nullptr;
  return load_observer(*name, base_name, args);
}

}  // namespace llmc
