#include <llmc/error.hpp>
#include <llmc/modifiers/calibration.hpp>
#include <llmc/observers/observer_selection.hpp>

namespace llmc {

const QuantizationArgs* scheme_args(const nn::LinearImpl& module, const std::string& base_name) {
  if (!module.quantization_scheme) return nullptr;
  const auto& scheme = *module.quantization_scheme;
  const std::optional<QuantizationArgs>* args = nullptr;
  if (base_name == "weight") {
    args = &scheme.weights();
  } else if (base_name == "input") {
    args = &scheme.input_activations();
  } else if (base_name == "output") {
    args = &scheme.output_activations();
  } else {
    throw Error("scheme_args: unknown base name '" + base_name +
                "' (llmc::nn::Linear has weight, input and output)");
  }
  return args->has_value() ? &args->value() : nullptr;
}

std::shared_ptr<Observer> initialize_module_observer(nn::LinearImpl& module,
                                                     const std::string& base_name) {
  const QuantizationArgs* args = scheme_args(module, base_name);
  if (args == nullptr) return nullptr;
  std::shared_ptr<Observer> observer = initialize_observer(base_name, *args);
  if (!observer) return nullptr;
  if (auto previous = module.observers.find(base_name); previous != module.observers.end()) {
    previous->second->detach(module);
  }
  module.observers[base_name] = observer;
  observer->attach(module);
  return observer;
}

void observe_weight(nn::LinearImpl& module) {
  auto it = module.observers.find("weight");
  if (it == module.observers.end()) return;
  (*it->second)(module.weight);
}

bool update_qparams(nn::LinearImpl& module, const std::string& base_name,
                    std::vector<std::string>* warnings, const std::string& name) {
  auto it = module.observers.find(base_name);
  if (it == module.observers.end()) return false;
  Observer& observer = *it->second;
  const std::string who = name.empty() ? std::string("a module") : "'" + name + "'";
  if (!observer.has_statistics()) {
    if (warnings) {
      warnings->push_back("Attempted to calibrate " + base_name + " of " + who +
                          " without statistics; its qparams are left as initialized");
    }
    return false;
  }
  const QuantizationArgs* args = scheme_args(module, base_name);
  QParams qparams;
  try {
    qparams = observer.get_qparams();
  } catch (const std::exception& e) {
    rethrow_with_context(name.empty() ? base_name : name + "." + base_name, e);
  }
  auto store = [&](const std::string& kind, const at::Tensor& value) {
    const std::string qparam = base_name + "_" + kind;
    if (!value.defined() || !module.has_qparam(qparam)) return;
    at::NoGradGuard no_grad;
    auto target = module.qparam(qparam);
    target.copy_(value.reshape(target.sizes()));  // keeps the parameter's dtype (LC §3.3)
  };
  const bool dynamic = args != nullptr && args->dynamic() != DynamicType::Static;
  if (!dynamic) {
    store("scale", qparams.scale);
    store("zero_point", qparams.zero_point);
  }
  if (qparams.global_scale) store("global_scale", *qparams.global_scale);
  return true;
}

void freeze_module_quantization(nn::LinearImpl& module) {
  for (auto& [base_name, observer] : module.observers) observer->detach(module);
  module.observers.clear();
  if (module.quantization_scheme) module.quantization_status = nn::QuantizationStatus::Frozen;
}

std::vector<std::shared_ptr<FusionGroup>> fuse_module_weight_observers(
    const std::vector<nn::NamedLinear>& linears) {
  std::vector<std::string> names;
  for (const auto& [name, linear] : linears) names.push_back(name);
  std::vector<std::shared_ptr<FusionGroup>> groups;
  for (const auto& siblings : find_fused_siblings(names)) {
    std::vector<FusionGroup::Member> present;
    for (const auto& [layer, index] : siblings.layers) {
      nn::LinearImpl* member = linears[index].second.get();
      auto obs = member->observers.find("weight");
      Observer* observer = obs == member->observers.end() ? nullptr : obs->second.get();
      present.push_back({layer, observer, [member] { observe_weight(*member); }});
    }
    try {
      if (auto fused = fuse_weight_observers(present)) groups.push_back(std::move(fused));
    } catch (const std::exception& e) {
      const std::string& parent = siblings.parent;
      rethrow_with_context(parent.empty() ? names[siblings.layers.front().second]
                                          : parent.substr(0, parent.size() - 1),
                           e);
    }
  }
  return groups;
}

}  // namespace llmc
