#include "make_linear.hpp"

namespace llmc::models {

llmc::nn::Linear make_linear(int64_t in_features, int64_t out_features, bool bias,
                             ParameterInit init) {
  const auto options = llmc::nn::LinearOptions(in_features, out_features).bias(bias);
  if (init == ParameterInit::Random) return llmc::nn::Linear(options);
  // LinearImpl always allocates and initialises (out, in) weights; (0, 1) costs nothing (in = 1
  // keeps kaiming's fan-in non-zero). The options then describe the tensors the loader sets.
  llmc::nn::Linear linear(llmc::nn::LinearOptions(1, 0).bias(bias));
  linear->options = options;
  return linear;
}

}  // namespace llmc::models
