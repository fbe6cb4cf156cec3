// Embedding llmc in your own LibTorch model: a small MLP written with llmc::nn::Linear, random
// calibration batches, and a recipe that gathers the importance matrix (E[x²] per input channel)
// and quantizes the weights to int4, group 32, with the importance-weighted imatrix_mse
// observer. Prints each layer's weight_scale shape and the quantized model's relative output
// error, and exits non-zero if either is off.
#include <iostream>
#include <llmc/llmc.hpp>
#include <vector>

namespace {

// The user's model: any torch::nn::Module whose linear layers are llmc::nn::Linear (a drop-in
// for torch::nn::Linear that llmc can hook and quantize).
struct MLPImpl : torch::nn::Module {
  MLPImpl(int64_t width, int64_t hidden) {
    up = register_module("up", llmc::nn::Linear(width, hidden));
    down = register_module("down", llmc::nn::Linear(hidden, width));
  }
  torch::Tensor forward(const torch::Tensor& x) { return down(torch::gelu(up(x))); }
  llmc::nn::Linear up{nullptr}, down{nullptr};
};
TORCH_MODULE(MLP);

// The flat recipe form: modifiers run in order, each with its own calibration pass.
constexpr const char* kRecipe = R"(
recipe:
  - IMatrixGatherer:
      ignore: [lm_head]
  - QuantizationModifier:
      config_groups:
        group_0:
          targets: [Linear]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: group, group_size: 32,
                    observer: imatrix_mse}
      ignore: [lm_head]
)";

torch::Tensor run(MLP& model, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  return model->forward(x);
}

}  // namespace

int main() {
  constexpr int64_t kWidth = 256;
  torch::manual_seed(0);
  MLP model(kWidth, 2 * kWidth);

  // Calibration and evaluation inputs whose channels differ in scale, as LLM activations do:
  // the importance matrix is what tells the observer which weight columns matter.
  const torch::Tensor channel_scale = torch::logspace(-1, 1, kWidth);
  std::vector<torch::Tensor> batches;
  for (int i = 0; i < 8; ++i) batches.push_back(torch::randn({4, 16, kWidth}) * channel_scale);
  const torch::Tensor eval = torch::randn({4, 16, kWidth}) * channel_scale;
  const torch::Tensor reference = run(model, eval);

  try {
    const llmc::OneshotResult result =
        llmc::oneshot(model.ptr(), batches, llmc::Recipe::from_string(kRecipe));
    for (const auto& warning : result.warnings) std::cerr << "warning: " << warning << "\n";
  } catch (const llmc::Error& e) {
    std::cerr << "embed_oneshot: " << e.what() << "\n";
    return 1;
  }

  bool shapes_ok = true;
  for (const auto& [name, linear] : llmc::nn::named_linears(*model)) {
    const auto scale_shape = linear->qparam("weight_scale").sizes().vec();
    const std::vector<int64_t> expected = {linear->weight.size(0), linear->weight.size(1) / 32};
    shapes_ok = shapes_ok && scale_shape == expected;
    std::cout << name << ": weight " << linear->weight.sizes() << ", weight_scale "
              << linear->qparam("weight_scale").sizes() << "\n";
  }

  // After oneshot the layers fake-quantize their weights in forward.
  const torch::Tensor quantized = run(model, eval);
  const double error = ((quantized - reference).norm() / reference.norm()).item<double>();
  std::cout << "relative output error of the quantized model: " << error << "\n";
  // int4 group 32 through two layers: about 10%; far more means something is broken.
  return (shapes_ok && error < 0.2) ? 0 : 1;
}
