#include <torch/nn/functional/linear.h>
#include <torch/nn/init.h>

#include <cmath>
#include <llmc/error.hpp>
#include <llmc/nn/linear.hpp>
#include <llmc/quant/forward.hpp>

namespace llmc::nn {

std::string to_string(QuantizationStatus status) {
  switch (status) {
    case QuantizationStatus::Initialized:
      return "initialized";
    case QuantizationStatus::Calibration:
      return "calibration";
    case QuantizationStatus::Frozen:
      return "frozen";
    case QuantizationStatus::Compressed:
      return "compressed";
    case QuantizationStatus::Decompressed:
      return "decompressed";
  }
  return "unknown";
}

LinearImpl::LinearImpl(const LinearOptions& options_) : options(options_) { reset(); }

void LinearImpl::reset() {
  weight =
      register_parameter("weight", torch::empty({options.out_features(), options.in_features()}));
  if (options.bias()) {
    bias = register_parameter("bias", torch::empty(options.out_features()));
  } else {
    bias = register_parameter("bias", {}, /*requires_grad=*/false);
  }
  // A clone copies the qparams' data after reset(); placeholders keep the parameter count equal.
  for (const auto& name : qparam_names_) {
    register_parameter(name, torch::empty({0}), /*requires_grad=*/false);
  }
  pre_hooks_ = std::make_shared<HookList<ForwardPreHook>>();
  post_hooks_ = std::make_shared<HookList<ForwardHook>>();
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5));
  if (bias.defined()) {
    auto [fan_in, fan_out] = torch::nn::init::_calculate_fan_in_and_fan_out(weight);
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

void LinearImpl::pretty_print(std::ostream& stream) const {
  stream << "llmc::nn::Linear(in_features=" << options.in_features()
         << ", out_features=" << options.out_features() << ", bias=" << std::boolalpha
         << options.bias() << ")";
}

HookHandle LinearImpl::register_forward_pre_hook(ForwardPreHook hook) {
  return pre_hooks_->add(std::move(hook));
}

HookHandle LinearImpl::register_forward_hook(ForwardHook hook) {
  return post_hooks_->add(std::move(hook));
}

torch::Tensor LinearImpl::run_pre_hooks(const torch::Tensor& input) {
  torch::Tensor x = input;
  for (const auto& entry : pre_hooks_->snapshot()) {
    if (!DisableHooks::hook_enabled(entry.id)) continue;
    if (auto replaced = entry.fn(*this, x)) x = *replaced;
  }
  return x;
}

torch::Tensor LinearImpl::run_post_hooks(const torch::Tensor& input, const torch::Tensor& output) {
  torch::Tensor y = output;
  for (const auto& entry : post_hooks_->snapshot()) {
    if (!DisableHooks::hook_enabled(entry.id)) continue;
    if (auto replaced = entry.fn(*this, input, y)) y = *replaced;
  }
  return y;
}

torch::Tensor LinearImpl::forward_quantize(const torch::Tensor& value, const std::string& base_name,
                                           const QuantizationArgs& args) const {
  if (value.numel() == 0) return value;
  const auto global_scale = find_qparam(base_name + "_global_scale");
  if (args.dynamic() != DynamicType::Static) {
    auto [scale, zero_point] = compute_dynamic_scales_and_zp(value, args, global_scale);
    return fake_quantize(value, scale, zero_point, args, global_scale);
  }
  return fake_quantize(value, qparam(base_name + "_scale"), find_qparam(base_name + "_zero_point"),
                       args, global_scale);
}

torch::Tensor LinearImpl::forward(const torch::Tensor& input) {
  torch::Tensor x = run_pre_hooks(input);
  const bool enabled =
      quantization_enabled && quantization_scheme.has_value() && quantization_status.has_value();
  if (enabled && quantization_scheme->input_activations()) {
    x = forward_quantize(x, "input", *quantization_scheme->input_activations());
  }
  torch::Tensor w = weight;
  if (enabled && quantization_scheme->weights() &&
      *quantization_status < QuantizationStatus::Compressed) {
    // Upstream fake-quantizes weight.data, outside autograd; QAT is out of scope here.
    torch::NoGradGuard no_grad;
    w = forward_quantize(weight, "weight", *quantization_scheme->weights());
  }
  torch::Tensor y = torch::nn::functional::linear(x, w, bias);
  if (enabled && quantization_scheme->output_activations()) {
    y = forward_quantize(y, "output", *quantization_scheme->output_activations());
  }
  return run_post_hooks(x, y);
}

}  // namespace llmc::nn
