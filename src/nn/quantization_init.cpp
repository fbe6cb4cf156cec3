#include <llmc/error.hpp>
#include <llmc/nn/quantization_init.hpp>
#include <llmc/quant/qparams.hpp>

namespace llmc::nn {

namespace {

c10::ScalarType scale_dtype_for(c10::ScalarType observed) {
  switch (observed) {
    case c10::ScalarType::Half:
    case c10::ScalarType::BFloat16:
    case c10::ScalarType::Float:
    case c10::ScalarType::Double:
      return observed;
    default:
      return c10::ScalarType::Half;
  }
}

}  // namespace

void initialize_qparams(LinearImpl& module, const std::string& base_name,
                        const QuantizationArgs& args, at::IntArrayRef observed_shape,
                        c10::ScalarType observed_dtype, bool force_zero_point) {
  if (args.dynamic() == DynamicType::Dynamic) return;
  const auto device = module.weight.device();
  const auto strategy = args.strategy();
  if (strategy == QuantizationStrategy::TensorGroup) {
    module.register_qparam(base_name + "_global_scale",
                           at::empty({1}, at::TensorOptions().dtype(at::kFloat).device(device)));
  }
  if (args.dynamic() == DynamicType::Local) return;
  if (strategy == QuantizationStrategy::Token) {
    throw Error(base_name + ": Cannot perform static token quantization");
  }
  const std::vector<int64_t> shape = qparam_shape(args, observed_shape);
  module.register_qparam(
      base_name + "_scale",
      at::empty(shape, at::TensorOptions().dtype(scale_dtype_for(observed_dtype)).device(device)));
  if (force_zero_point || !args.symmetric()) {
    const auto zp_dtype = args.zp_dtype().value_or(args.pytorch_dtype());
    module.register_qparam(base_name + "_zero_point",
                           at::zeros(shape, at::TensorOptions().dtype(zp_dtype).device(device)));
  }
}

void initialize_module_for_quantization(LinearImpl& module, const QuantizationScheme& scheme,
                                        bool force_zero_point) {
  const QuantizationScheme validated = scheme.validated();
  module.clear_qparams();
  const auto weight_shape = module.weight.sizes();
  const auto dtype = module.weight.scalar_type();
  if (validated.input_activations()) {
    initialize_qparams(module, "input", *validated.input_activations(), weight_shape.slice(1),
                       dtype, force_zero_point);
  }
  if (validated.weights()) {
    initialize_qparams(module, "weight", *validated.weights(), weight_shape, dtype,
                       force_zero_point);
  }
  if (validated.output_activations()) {
    initialize_qparams(module, "output", *validated.output_activations(), weight_shape.slice(0, 1),
                       dtype, force_zero_point);
  }
  module.quantization_scheme = validated;
  module.quantization_status = QuantizationStatus::Initialized;
}

}  // namespace llmc::nn
