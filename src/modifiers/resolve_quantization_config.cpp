// upstream QuantizationMixin.resolve_quantization_config and _apply_observer_overrides
// (llm-compressor 0.14): presets or config groups → the config the modifier applies.
#include <llmc/error.hpp>
#include <llmc/modifiers/quantization_modifier.hpp>
#include <llmc/quant/presets.hpp>

namespace llmc {
namespace {

// Replaces the observer of `args` when overridden, else fills the default observer upstream
// now writes into the config (none for dynamic args); an observer the recipe set stays.
void override_observer(std::optional<QuantizationArgs>& args,
                       const std::optional<std::string>& override_name,
                       const char* default_observer) {
  if (!args) return;
  std::optional<std::string> observer = override_name;
  if (!observer) {
    if (args->observer()) return;
    if (args->dynamic() != DynamicType::Dynamic) observer = default_observer;
  }
  args = args->observer(observer).validated();
}

QuantizationScheme apply_observer_overrides(QuantizationScheme scheme,
                                            const QuantizationModifierOptions& o) {
  const bool individual = o.weight_observer() || o.input_observer() || o.output_observer();
  if (individual && o.observer()) {
    throw Error(
        "Cannot specify both individual observer parameters (weight_observer, input_observer, "
        "output_observer) and observer dict. Please use either individual parameters or the "
        "observer dict.");
  }
  auto weight = o.weight_observer();
  auto input = o.input_observer();
  auto output = o.output_observer();
  if (o.observer()) {
    const auto& map = *o.observer();
    if (auto it = map.find("weights"); it != map.end()) weight = it->second;
    if (auto it = map.find("input"); it != map.end()) input = it->second;
    if (auto it = map.find("output"); it != map.end()) output = it->second;
  }
  std::optional<QuantizationArgs> args = scheme.weights();
  override_observer(args, weight, "memoryless_minmax");
  scheme.weights(args);
  args = scheme.input_activations();
  override_observer(args, input, "minmax");
  scheme.input_activations(args);
  args = scheme.output_activations();
  override_observer(args, output, "minmax");
  scheme.output_activations(args);
  return scheme.validated();
}

}  // namespace

QuantizationConfig resolve_quantization_config(const QuantizationModifierOptions& o) {
  if (o.observer()) {
    for (const auto& [key, value] : *o.observer()) {
      if (key != "weights" && key != "input" && key != "output") {
        throw Error("observer: Invalid observer key '" + key +
                    "'. Valid keys are: weights, input, output");
      }
    }
  }
  const bool has_scheme = o.scheme() || o.scheme_targets();
  if (has_scheme && o.config_groups()) {
    throw Error("Please specify either `scheme` or `config_groups`");
  }
  ConfigGroups groups;
  if (has_scheme) {
    PresetTargets presets =
        o.scheme_targets() ? *o.scheme_targets() : PresetTargets{{*o.scheme(), o.targets()}};
    for (size_t i = 0; i < presets.size(); ++i) {
      const auto& [preset, targets] = presets[i];
      groups.emplace_back("group_" + std::to_string(i),
                          apply_observer_overrides(preset_name_to_scheme(preset, targets), o));
    }
  }
  if (!has_scheme && o.config_groups() && !o.config_groups()->empty()) {
    for (const auto& [name, scheme] : *o.config_groups()) {
      try {
        groups.emplace_back(name, apply_observer_overrides(scheme, o));
      } catch (const std::exception& e) {
        rethrow_with_context("config_groups." + name, e);
      }
    }
  }
  if (groups.empty()) {
    groups.emplace_back("group_0",
                        apply_observer_overrides(QuantizationScheme().targets(o.targets()), o));
  }
  QuantizationConfig config;
  config.config_groups(std::move(groups))
      .ignore(o.ignore())
      .kv_cache_scheme(o.kv_cache_scheme())
      .quantization_status(QuantizationStatus::Initialized);
  return config;
}

}  // namespace llmc
