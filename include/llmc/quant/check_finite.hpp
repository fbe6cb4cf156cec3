// NaN/inf guard for quantization inputs. Upstream silently turns a NaN weight into NaN scales
// and NaN outputs; llmc stops with an error naming the tensor instead.
//
//   llmc::check_finite(weight, "model.layers.0.q_proj.weight");  // throws llmc::Error on NaN/inf
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace llmc {

// Throws llmc::Error("<name>: N of M values are not finite (first at flat index i: nan)") when
// `tensor` holds NaN or ±inf. Costs one pass and, on GPU, one host sync.
void check_finite(const at::Tensor& tensor, const std::string& name);

}  // namespace llmc
