// Per-module calibration steps shared by the quantization modifiers — llm-compressor's
// modifiers/quantization/calibration.py on llmc::nn::Linear: create and attach a module's
// observers, observe its weight, write qparams into the module's parameters, freeze it.
//
//   llmc::initialize_module_observer(*fc, "weight");   // fc->observers["weight"], attached
//   llmc::observe_weight(*fc);
//   llmc::update_qparams(*fc, "weight");               // fc->qparam("weight_scale") filled
//   llmc::freeze_module_quantization(*fc);             // observers detached and removed
#pragma once

#include <llmc/nn/linear.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/observers/fusion.hpp>
#include <llmc/observers/observer.hpp>
#include <memory>
#include <string>
#include <vector>

namespace llmc {

// The args of `base_name` in the module's scheme: "weight" → weights, "input" → input
// activations, "output" → output activations; null when the scheme has none.
const QuantizationArgs* scheme_args(const nn::LinearImpl& module, const std::string& base_name);

// upstream initialize_observer: the observer resolve_observer_name picks for the scheme's args
// (none for dynamic args), stored as module.observers[base_name] and attached to the module.
// Returns it, or null when there is nothing to observe.
std::shared_ptr<Observer> initialize_module_observer(nn::LinearImpl& module,
                                                     const std::string& base_name);

// Runs the weight observer on the module's weight (a no-op without one).
void observe_weight(nn::LinearImpl& module);

// upstream update_qparams: get_qparams from module.observers[base_name] and copy each into the
// existing `<base>_scale` / `_zero_point` / `_global_scale` parameter in place (keeping its
// dtype); dynamic args store only the global scale. Without an observer nothing happens;
// without statistics a warning is appended to `warnings` (upstream logs it) and false returned.
bool update_qparams(nn::LinearImpl& module, const std::string& base_name,
                    std::vector<std::string>* warnings = nullptr, const std::string& name = "");

// upstream freeze_module_quantization: detach and remove every observer, status Frozen.
void freeze_module_quantization(nn::LinearImpl& module);

// upstream fuse_weight_observers over a model's linears: siblings named by fused_layer_names()
// ("x.q_proj", "x.k_proj", "x.v_proj" under one parent) whose weight observers are TENSOR_GROUP
// share one global scale. Returns the groups formed (they live as long as their observers).
std::vector<std::shared_ptr<FusionGroup>> fuse_module_weight_observers(
    const std::vector<nn::NamedLinear>& linears);

}  // namespace llmc
