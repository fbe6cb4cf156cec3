// Walking a torch::nn::Module tree: named submodules in a deterministic order (registration
// order, depth first, parents before children, like Python's named_modules(); the same on every
// rank, DESIGN §5), llmc::nn::Linear layers, and target/ignore matching (CT
// match_named_modules) on top of core/module_matching.
//
//   for (auto& [name, linear] : llmc::nn::match_named_linears(*model, {"Linear"}, {"lm_head"}))
//     llmc::nn::initialize_module_for_quantization(*linear, scheme);
#pragma once

#include <torch/nn/module.h>

#include <llmc/nn/linear.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace llmc::nn {

using NamedModule = std::pair<std::string, std::shared_ptr<torch::nn::Module>>;
using NamedLinear = std::pair<std::string, std::shared_ptr<LinearImpl>>;

// Every module including `model` itself (name ""), in named_modules() order. `model` must be
// owned by a shared_ptr (a module holder or std::make_shared), as LibTorch requires.
std::vector<NamedModule> named_modules(const torch::nn::Module& model);
// The llmc::nn::Linear layers among them (torch::nn::Linear is not hookable and not listed).
std::vector<NamedLinear> named_linears(const torch::nn::Module& model);

// The names a target may use for a module's class: its C++ type name without namespace and
// without the "Impl" suffix of the holder pattern ("llmc::nn::LinearImpl" → "Linear",
// "MyBlockImpl" → "MyBlock"), plus "Module", which upstream's MRO walk also matches.
std::vector<std::string> module_class_names(const torch::nn::Module& module);

// Modules that match `targets` and no `ignore` entry (ignore wins), in named_modules() order.
std::vector<NamedModule> match_named_modules(const torch::nn::Module& model,
                                             const std::vector<std::string>& targets,
                                             const std::vector<std::string>& ignore = {});
std::vector<NamedLinear> match_named_linears(const torch::nn::Module& model,
                                             const std::vector<std::string>& targets,
                                             const std::vector<std::string>& ignore = {});

// RAII twin of llm-compressor's DisableQuantization(model) (LC §1.5, basic pipeline): sets
// quantization_enabled = false on every llmc::nn::Linear, and on exit sets it to true on every
// one, as upstream's enable_quantization does (it does not restore earlier values).
class DisableQuantization {
 public:
  explicit DisableQuantization(const torch::nn::Module& model);
  ~DisableQuantization();
  DisableQuantization(const DisableQuantization&) = delete;
  DisableQuantization& operator=(const DisableQuantization&) = delete;

 private:
  std::vector<NamedLinear> linears_;
};

}  // namespace llmc::nn
