// llmc::nn::Linear: a drop-in for torch::nn::Linear (same options, parameters, state_dict names
// and init) that LibTorch lacks two things for (DESIGN §4, libtorch-notes §3): forward hooks,
// and the quantized forward compressed-tensors patches onto torch.nn.Linear
// (CT lifecycle/forward.py set_forward_quantized).
//
//   llmc::nn::Linear fc(llmc::nn::LinearOptions(512, 256).bias(false));
//   auto h = fc->register_forward_pre_hook([](auto&, const torch::Tensor& x) {
//     return std::optional<torch::Tensor>{};  // observe only; return a tensor to replace x
//   });
//   torch::Tensor y = fc(x);  // x: (*, in_features) → y: (*, out_features)
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <llmc/nn/hooks.hpp>
#include <map>
#include <memory>
#include <llmc/quant/quantization_scheme.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace llmc {
class Observer;
}

namespace llmc::nn {

using LinearOptions = torch::nn::LinearOptions;

// compressed-tensors' QuantizationStatus, in its lifecycle order (comparisons follow it).
enum class QuantizationStatus { Initialized, Calibration, Frozen, Compressed, Decompressed };
std::string to_string(QuantizationStatus status);

class LinearImpl : public torch::nn::Cloneable<LinearImpl> {
 public:
  // Runs before the forward (and before input fake-quant, LC §5.4); a returned tensor replaces
  // the input for later hooks and the forward, std::nullopt keeps it.
  using ForwardPreHook =
      std::function<std::optional<torch::Tensor>(LinearImpl& module, const torch::Tensor& input)>;
  // Runs after the forward (after output fake-quant); a returned tensor replaces the output.
  using ForwardHook = std::function<std::optional<torch::Tensor>(
      LinearImpl& module, const torch::Tensor& input, const torch::Tensor& output)>;

  LinearImpl(int64_t in_features, int64_t out_features)
      : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(const LinearOptions& options_);

  // Registers weight, bias and any qparams again (Cloneable::clone copies their data after).
  // Hooks are not carried over: a clone starts with none.
  void reset() override;
  // torch::nn::Linear's initialisation: kaiming_uniform_(a=√5), bias U(±1/√fan_in).
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  // Pre-hooks → [input fake-quant] → linear with [fake-quantized weight] → [output fake-quant]
  // → forward hooks. The bracketed steps run when quantization_enabled, a scheme and a status
  // are set (upstream's condition); weight fake-quant is skipped from Compressed on.
  torch::Tensor forward(const torch::Tensor& input);

  // Hooks run in registration order; DisableHooks skips them unless kept (see hooks.hpp).
  HookHandle register_forward_pre_hook(ForwardPreHook hook);
  HookHandle register_forward_hook(ForwardHook hook);
  size_t num_forward_pre_hooks() const { return pre_hooks_->size(); }
  size_t num_forward_hooks() const { return post_hooks_->size(); }

  // Quantization parameters under compressed-tensors' names (`<base>_<kind>`, base input /
  // weight / output, kind scale / zero_point / global_scale / g_idx), registered as
  // parameters without grad like CT's initialize_qparams, so they appear in named_parameters()
  // and the state dict. Registering an existing name replaces it.
  torch::Tensor& register_qparam(const std::string& name, torch::Tensor value);
  bool has_qparam(const std::string& name) const;
  // Throws llmc::Error naming the module's registered qparams when `name` is missing.
  const torch::Tensor& qparam(const std::string& name) const;
  std::optional<torch::Tensor> find_qparam(const std::string& name) const;
  void remove_qparam(const std::string& name);
  // CT QuantizationMetadata.clear_all_qparams.
  void clear_qparams();
  const std::vector<std::string>& qparam_names() const { return qparam_names_; }

  LinearOptions options;
  torch::Tensor weight;  // (out_features, in_features)
  torch::Tensor bias;    // (out_features), undefined without bias
  std::optional<QuantizationScheme> quantization_scheme;
  std::optional<QuantizationStatus> quantization_status;
  bool quantization_enabled = true;  // upstream's getattr(..., "quantization_enabled", True)

  // Observers calibrating this module, by base name ("weight", "input", "output"): upstream's
  // `module.weight_observer` attributes. Set by QuantizationModifier / IMatrixGatherer during
  // calibration and removed when it ends.
  std::map<std::string, std::shared_ptr<Observer>> observers;
  // Plain tensor attributes, neither parameters nor buffers, so never in the state dict:
  // upstream's setattr'd calibration leftovers (the `_imatrix_sum` / `_imatrix_count` an
  // IMatrixGatherer leaves for the next imatrix_mse observer to adopt).
  std::map<std::string, torch::Tensor> attributes;

 private:
  torch::Tensor run_pre_hooks(const torch::Tensor& input);
  torch::Tensor run_post_hooks(const torch::Tensor& input, const torch::Tensor& output);
  // CT forward_quantize: static qparams from the module, dynamic ones computed from `value`.
  torch::Tensor forward_quantize(const torch::Tensor& value, const std::string& base_name,
                                 const QuantizationArgs& args) const;

  std::shared_ptr<HookList<ForwardPreHook>> pre_hooks_;
  std::shared_ptr<HookList<ForwardHook>> post_hooks_;
  std::vector<std::string> qparam_names_;  // registration order
};

TORCH_MODULE(Linear);

}  // namespace llmc::nn
