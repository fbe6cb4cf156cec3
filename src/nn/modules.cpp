#include <llmc/core/module_matching.hpp>
#include <llmc/nn/modules.hpp>

namespace llmc::nn {

std::vector<NamedModule> named_modules(const torch::nn::Module& model) {
  std::vector<NamedModule> out;
  for (const auto& item : model.named_modules("", /*include_self=*/true)) {
    out.emplace_back(item.key(), item.value());
  }
  return out;
}

std::vector<NamedLinear> named_linears(const torch::nn::Module& model) {
  std::vector<NamedLinear> out;
  for (auto& [name, module] : named_modules(model)) {
    if (auto linear = std::dynamic_pointer_cast<LinearImpl>(module)) {
      out.emplace_back(name, std::move(linear));
    }
  }
  return out;
}

std::vector<std::string> module_class_names(const torch::nn::Module& module) {
  std::string name = module.name();
  const auto template_start = name.find('<');
  const auto scope = name.rfind("::", template_start);
  if (scope != std::string::npos) name = name.substr(scope + 2);
  const std::string suffix = "Impl";
  if (name.size() > suffix.size() && name.ends_with(suffix)) {
    name.resize(name.size() - suffix.size());
  }
  if (name == "Module") return {name};
  return {name, "Module"};
}

std::vector<NamedModule> match_named_modules(const torch::nn::Module& model,
                                             const std::vector<std::string>& targets,
                                             const std::vector<std::string>& ignore) {
  std::vector<NamedModule> out;
  for (auto& [name, module] : named_modules(model)) {
    if (is_match(name, module_class_names(*module), targets, ignore)) {
      out.emplace_back(name, module);
    }
  }
  return out;
}

std::vector<NamedLinear> match_named_linears(const torch::nn::Module& model,
                                             const std::vector<std::string>& targets,
                                             const std::vector<std::string>& ignore) {
  std::vector<NamedLinear> out;
  for (auto& [name, linear] : named_linears(model)) {
    if (is_match(name, module_class_names(*linear), targets, ignore)) {
      out.emplace_back(name, linear);
    }
  }
  return out;
}

DisableQuantization::DisableQuantization(const torch::nn::Module& model)
    : linears_(named_linears(model)) {
  for (auto& [name, linear] : linears_) linear->quantization_enabled = false;
}

DisableQuantization::~DisableQuantization() {
  for (auto& [name, linear] : linears_) linear->quantization_enabled = true;
}

}  // namespace llmc::nn
