#include <algorithm>
#include <llmc/core/module_matching.hpp>
#include <llmc/dist/sync_statistics.hpp>
#include <llmc/error.hpp>
#include <llmc/modifiers/calibration.hpp>
#include <llmc/modifiers/group_size_validation.hpp>
#include <llmc/modifiers/quantization_modifier.hpp>
#include <llmc/nn/quantization_init.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <set>

namespace llmc {
namespace {

// CT apply_quantization_config: every group's targets in one ordered map (a later group's
// target replaces an earlier one's scheme in place), and for a module matching several targets
// the most specific wins — exact names, then regexes (each sorted), then class names.
class TargetToScheme {
 public:
  explicit TargetToScheme(const ConfigGroups& groups) {
    for (const auto& [name, scheme] : groups) {
      for (const auto& target : scheme.targets()) {
        auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const auto& e) { return e.first == target; });
        if (it == entries_.end()) {
          entries_.emplace_back(target, &scheme);
        } else {
          it->second = &scheme;
        }
      }
    }
  }

  std::vector<std::string> targets() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.first);
    return out;
  }

  const QuantizationScheme* scheme_for(const std::string& name,
                                       const std::vector<std::string>& class_names) const {
    std::vector<std::string> sorted = targets();
    std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
      const bool ra = a.find("re:") != std::string::npos;
      const bool rb = b.find("re:") != std::string::npos;
      return std::make_pair(ra, a) < std::make_pair(rb, b);
    });
    for (const auto& target : sorted) {
      if (match_name(name, target)) return lookup(target);
    }
    for (const auto& target : sorted) {
      if (std::find(class_names.begin(), class_names.end(), target) != class_names.end()) {
        return lookup(target);
      }
    }
    return nullptr;
  }

 private:
  const QuantizationScheme* lookup(const std::string& target) const {
    for (const auto& e : entries_) {
      if (e.first == target) return e.second;
    }
    return nullptr;
  }
  std::vector<std::pair<std::string, const QuantizationScheme*>> entries_;
};

}  // namespace

QuantizationModifier::QuantizationModifier(QuantizationModifierOptions options)
    : options_(std::move(options)) {
  if (options_.kv_cache_scheme()) {
    throw Error("QuantizationModifier.kv_cache_scheme: not supported: llmc's models have no "
                "attention modules whose k/v cache could be calibrated");
  }
  resolved_config_ = resolve_quantization_config(options_);
}

QuantizationModifier::QuantizationModifier(const ModifierSpec& spec) {
  options_ = QuantizationModifierOptions::from_spec(spec, {}, this);
  try {
    resolved_config_ = resolve_quantization_config(options_);
  } catch (const std::exception& e) {
    spec.fail("", e.what());
  }
}

bool QuantizationModifier::requires_calibration_data() const {
  return requires_calibration_data_ || resolved_config_.requires_calibration_data();
}

nlohmann::ordered_json QuantizationModifier::args_json() const {
  nlohmann::ordered_json args = nlohmann::ordered_json::object();
  options_.append_json(args);
  append_common_args(args);
  return args;
}

bool QuantizationModifier::on_initialize(State& state) {
  if (!options_.has_config()) {
    throw Error("QuantizationModifier requires that quantization fields be specified (scheme, "
                "config_groups, targets or ignore)");
  }
  if (!state.model) throw Error("QuantizationModifier: the state has no model");
  initialize_quantization(*state.model);
  return true;
}

void QuantizationModifier::initialize_quantization(torch::nn::Module& model) {
  const TargetToScheme target_to_scheme(resolved_config_.config_groups());
  modules_.clear();
  for (auto& [name, linear] : nn::named_linears(model)) {
    const auto class_names = nn::module_class_names(*linear);
    if (!is_match(name, class_names, target_to_scheme.targets(), resolved_config_.ignore())) {
      continue;
    }
    const QuantizationScheme* scheme = target_to_scheme.scheme_for(name, class_names);
    if (scheme == nullptr) continue;
    // A scheme without any args quantizes nothing (upstream's default group): leave it alone.
    if (!scheme->weights() && !scheme->input_activations() && !scheme->output_activations()) {
      continue;
    }
    try {
      nn::initialize_module_for_quantization(*linear, *scheme);
    } catch (const std::exception& e) {
      rethrow_with_context(name, e);
    }
    modules_.emplace_back(name, linear);
  }
  if (!options_.bypass_divisibility_checks()) {
    validate_group_size_divisibility(
        modules_, "add these modules to `ignore`, or set bypass_divisibility_checks: true");
  }
  for (auto& [name, linear] : nn::named_linears(model)) linear->quantization_enabled = false;
}

void QuantizationModifier::on_calibration_start(State&, const Event&) { start_calibration(); }

void QuantizationModifier::start_calibration() {
  squared_sums_ = std::make_shared<SquaredInputSumsCache>();
  for (auto& [name, linear] : modules_) {
    const auto& scheme = *linear->quantization_scheme;
    try {
      const auto& input = scheme.input_activations();
      if (input && input->dynamic() != DynamicType::Dynamic) {
        if (auto observer = initialize_module_observer(*linear, "input")) {
          register_forward_pre_hook(*linear, [observer](nn::LinearImpl&, const torch::Tensor& x) {
            (*observer)(x);
            return std::optional<torch::Tensor>{};
          });
        }
      }
      if (scheme.weights()) {
        const auto observer = initialize_module_observer(*linear, "weight");
        if (auto* imatrix = dynamic_cast<IMatrixMSEObserver*>(observer.get())) {
          imatrix->share_squared_sums(squared_sums_);
        }
      }
      const auto& output = scheme.output_activations();
      if (output && output->dynamic() == DynamicType::Static) {
        if (auto observer = initialize_module_observer(*linear, "output")) {
          register_forward_hook(*linear, [observer](nn::LinearImpl&, const torch::Tensor&,
                                                    const torch::Tensor& y) {
            (*observer)(y);
            return std::optional<torch::Tensor>{};
          });
        }
      }
    } catch (const std::exception& e) {
      rethrow_with_context(name, e);
    }
    linear->quantization_status = nn::QuantizationStatus::Calibration;
  }
  fusion_groups_ = fuse_module_weight_observers(modules_);
}

std::vector<nn::NamedLinear> QuantizationModifier::calibrated_among(
    const std::vector<nn::NamedModule>& modules) const {
  std::set<const torch::nn::Module*> given;
  for (const auto& [name, module] : modules) given.insert(module.get());
  std::vector<nn::NamedLinear> out;
  // Our own (named_modules) order, so every rank walks the modules identically (LC §10 #2733).
  for (const auto& entry : modules_) {
    if (given.count(entry.second.get()) && entry.second->quantization_scheme) out.push_back(entry);
  }
  return out;
}

void QuantizationModifier::on_sequential_epoch_end(State& state, const Event&,
                                                   const std::vector<nn::NamedModule>& modules) {
  const auto calibrated = calibrated_among(modules);
  sync_statistics(state, calibrated);
  update_module_qparams(calibrated);
}

void QuantizationModifier::sync_statistics(State& state, const std::vector<nn::NamedLinear>& modules) {
  dist::sync_observer_statistics(state.process_group.get(), dist::module_observers(modules),
                                 type() + " epoch end (" + std::to_string(modules.size()) +
                                     " modules)");
}

void QuantizationModifier::update_module_qparams(const std::vector<nn::NamedLinear>& modules) {
  // Activation statistics first (and, under DDP, after they are all-reduced), then weights.
  for (const auto& [name, linear] : modules) {
    update_qparams(*linear, "input", &warnings_, name);
    update_qparams(*linear, "output", &warnings_, name);
  }
  for (const auto& [name, linear] : modules) {
    try {
      observe_weight(*linear);
    } catch (const std::exception& e) {
      rethrow_with_context(name, e);
    }
    if (auto it = linear->observers.find("weight"); it != linear->observers.end()) {
      if (auto* imatrix = dynamic_cast<IMatrixMSEObserver*>(it->second.get())) {
        if (imatrix->fallback_reason()) warn(name + ": " + *imatrix->fallback_reason());
      }
    }
  }
  for (const auto& [name, linear] : modules) update_qparams(*linear, "weight", &warnings_, name);
}

void QuantizationModifier::on_calibration_end(State& state, const Event&) {
  if (state.model) end_calibration(*state.model);
}

void QuantizationModifier::end_calibration(torch::nn::Module& model) {
  remove_hooks();
  if (squared_sums_) squared_sums_->clear();
  for (auto& [name, linear] : modules_) freeze_module_quantization(*linear);
  fusion_groups_.clear();
  for (auto& [name, linear] : nn::named_linears(model)) linear->quantization_enabled = true;
}

bool QuantizationModifier::on_finalize(State&) {
  // Calibration that never ended (a failed run): leave no hooks or observers behind.
  remove_hooks();
  for (auto& [name, linear] : modules_) {
    if (!linear->observers.empty()) freeze_module_quantization(*linear);
  }
  fusion_groups_.clear();
  return true;
}

}  // namespace llmc
