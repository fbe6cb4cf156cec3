// Linear layers of the Llama-family modules, built without the random initialisation when they
// are placeholders for load_llama (for an 8B model that initialisation would allocate and fill
// 32 GB of fp32 weights only to discard them).
#pragma once

#include <llmc/models/llama_layers.hpp>
#include <llmc/nn/linear.hpp>

namespace llmc::models {

llmc::nn::Linear make_linear(int64_t in_features, int64_t out_features, bool bias,
                             ParameterInit init);

}  // namespace llmc::models
