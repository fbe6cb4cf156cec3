// Attaching a QuantizationScheme to an llmc::nn::Linear the way compressed-tensors'
// initialize_module_for_quantization does: empty qparams of the right shape and dtype
// (LC §6.6), the scheme, status Initialized. QuantizationModifier.on_initialize calls this.
//
//   llmc::nn::initialize_module_for_quantization(*fc, llmc::preset_name_to_scheme("W4A16", {}));
//   fc->qparam("weight_scale").copy_(scale);
#pragma once

#include <ATen/ATen.h>

#include <llmc/nn/linear.hpp>
#include <llmc/quant/quantization_scheme.hpp>
#include <string>

namespace llmc::nn {

// CT initialize_qparams: nothing for dynamic args; `<base>_global_scale` fp32 (1,) for
// tensor_group; unless dynamic "local", `<base>_scale` (observed dtype if floating, else fp16)
// and, when `force_zero_point` or asymmetric, a zero `<base>_zero_point` in args' zp_dtype.
// Shapes from qparam_shape; static token args throw llmc::Error. Tensors are created on the
// module weight's device; scales are uninitialised (torch.empty) as upstream.
void initialize_qparams(LinearImpl& module, const std::string& base_name,
                        const QuantizationArgs& args, at::IntArrayRef observed_shape,
                        c10::ScalarType observed_dtype, bool force_zero_point = true);

// Clears previous qparams, initialises input (observed shape (in,)), weight ((out, in)) and
// output ((out,)) qparams of the validated scheme, then sets quantization_scheme and
// quantization_status = Initialized.
void initialize_module_for_quantization(LinearImpl& module, const QuantizationScheme& scheme,
                                        bool force_zero_point = true);

}  // namespace llmc::nn
