// QuantizationModifierOptions ↔ recipe kwargs (upstream QuantizationMixin's pydantic fields and
// field validators).
#include <llmc/core/modifier_kwargs.hpp>
#include <llmc/error.hpp>
#include <llmc/modifiers/quantization_modifier.hpp>
#include <llmc/quant/presets.hpp>

namespace llmc {
namespace {

const std::vector<std::string> kOwnKeys = {
    "config_groups",   "targets",         "ignore",   "scheme",
    "kv_cache_scheme", "weight_observer", "input_observer", "output_observer",
    "observer",        "bypass_divisibility_checks"};

std::string preset_list() {
  std::string known;
  for (const auto& name : preset_scheme_names()) known += (known.empty() ? "" : ", ") + name;
  return known;
}

std::vector<std::string> targets_of(const ModifierKwargs& kw, const nlohmann::ordered_json& value,
                                    const std::string& preset) {
  if (value.is_string()) return {value.get<std::string>()};
  std::vector<std::string> targets;
  if (value.is_array()) {
    for (const auto& t : value) {
      if (!t.is_string()) break;
      targets.push_back(t.get<std::string>());
    }
    if (targets.size() == value.size()) return targets;
  }
  kw.fail("scheme", "the targets of preset '" + preset +
                        "' must be a string or a list of strings, got " + value.dump());
}

}  // namespace

QuantizationModifierOptions QuantizationModifierOptions::from_spec(
    const ModifierSpec& spec, const std::vector<std::string>& extra_allowed, Modifier* common) {
  std::vector<std::string> allowed = kOwnKeys;
  allowed.insert(allowed.end(), extra_allowed.begin(), extra_allowed.end());
  ModifierKwargs kw(spec, allowed);
  QuantizationModifierOptions o;
  if (auto targets = kw.strings("targets")) o.targets(*targets);
  if (auto ignore = kw.strings("ignore")) o.ignore(*ignore);
  if (const auto* groups = kw.raw("config_groups")) {
    if (!groups->is_object()) {
      kw.fail("config_groups", "expected a mapping of group name → scheme, got " + groups->dump());
    }
    try {
      nlohmann::ordered_json wrapper = nlohmann::ordered_json::object();
      wrapper["config_groups"] = *groups;
      o.config_groups(QuantizationConfig::from_json(wrapper).config_groups());
    } catch (const std::exception& e) {
      kw.fail("config_groups", e.what());
    }
  }
  if (const auto* scheme = kw.raw("scheme")) {
    const std::string must =
        "`scheme` must either be a preset scheme name or a dictionary of preset scheme names";
    if (scheme->is_string()) {
      const auto name = scheme->get<std::string>();
      if (!is_preset_scheme(name)) {
        kw.fail("scheme", must + "; '" + name + "' is not a preset (known: " + preset_list() + ")");
      }
      o.scheme(name);
    } else if (scheme->is_object()) {
      PresetTargets presets;
      for (const auto& item : scheme->items()) {
        if (!is_preset_scheme(item.key())) {
          kw.fail("scheme", must + "; '" + item.key() + "' is not a preset (known: " +
                                preset_list() + ")");
        }
        presets.emplace_back(item.key(), targets_of(kw, item.value(), item.key()));
      }
      o.scheme_targets(std::move(presets));
    } else {
      kw.fail("scheme", must + ", got " + scheme->dump());
    }
  }
  if (kw.contains("kv_cache_scheme")) {
    kw.fail("kv_cache_scheme",
            "not supported: llmc's models have no attention modules whose k/v cache could be "
            "calibrated; remove the key (or set it to null)");
  }
  if (auto v = kw.string("weight_observer")) o.weight_observer(*v);
  if (auto v = kw.string("input_observer")) o.input_observer(*v);
  if (auto v = kw.string("output_observer")) o.output_observer(*v);
  if (const auto* observer = kw.raw("observer")) {
    if (!observer->is_object()) kw.fail("observer", "`observer` must be a dictionary");
    std::map<std::string, std::string> map;
    for (const auto& item : observer->items()) {
      if (item.key() != "weights" && item.key() != "input" && item.key() != "output") {
        kw.fail("observer", "Invalid observer key '" + item.key() +
                                "'. Valid keys are: weights, input, output");
      }
      if (!item.value().is_string()) {
        kw.fail("observer", "Observer value for '" + item.key() + "' must be a string");
      }
      map[item.key()] = item.value().get<std::string>();
    }
    o.observer(std::move(map));
  }
  if (auto v = kw.boolean("bypass_divisibility_checks")) o.bypass_divisibility_checks(*v);
  if (common) kw.apply_common(*common);
  return o;
}

bool QuantizationModifierOptions::has_config() const {
  return config_groups_.has_value() || targets_ != std::vector<std::string>{"Linear"} ||
         !ignore_.empty() || scheme_.has_value() || scheme_targets_.has_value() ||
         kv_cache_scheme_.has_value();
}

void QuantizationModifierOptions::append_json(nlohmann::ordered_json& args) const {
  if (config_groups_) {
    nlohmann::ordered_json groups = nlohmann::ordered_json::object();
    for (const auto& [name, scheme] : *config_groups_) {
      groups[name] = nlohmann::ordered_json::parse(scheme.to_json().dump());
    }
    args["config_groups"] = std::move(groups);
  }
  args["targets"] = targets_;
  args["ignore"] = ignore_;
  if (scheme_) args["scheme"] = *scheme_;
  if (scheme_targets_) {
    nlohmann::ordered_json presets = nlohmann::ordered_json::object();
    for (const auto& [preset, targets] : *scheme_targets_) presets[preset] = targets;
    args["scheme"] = std::move(presets);
  }
  if (kv_cache_scheme_) {
    args["kv_cache_scheme"] = nlohmann::ordered_json::parse(kv_cache_scheme_->to_json().dump());
  }
  if (weight_observer_) args["weight_observer"] = *weight_observer_;
  if (input_observer_) args["input_observer"] = *input_observer_;
  if (output_observer_) args["output_observer"] = *output_observer_;
  if (observer_) {
    nlohmann::ordered_json map = nlohmann::ordered_json::object();
    for (const auto& [key, value] : *observer_) map[key] = value;
    args["observer"] = std::move(map);
  }
  args["bypass_divisibility_checks"] = bypass_divisibility_checks_;
}

}  // namespace llmc
