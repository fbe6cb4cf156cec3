// RoPE inverse frequencies (transformers modeling_rope_utils: the default ones and
// _compute_llama3_parameters), in fp32 with the same operation order.
#include <cmath>
#include <llmc/models/llama_layers.hpp>
#include <numbers>

namespace llmc::models {
namespace {

torch::Tensor default_inv_freq(double theta, int64_t head_dim) {
  const torch::Tensor exponent =
      torch::arange(0, head_dim, 2, torch::kFloat) / static_cast<double>(head_dim);
  return 1.0 / torch::pow(theta, exponent);
}

// Llama 3.1: wavelengths shorter than the original context / high_freq_factor keep their
// frequency, those longer than context / low_freq_factor are slowed by `factor`, and the band in
// between interpolates smoothly between the two.
torch::Tensor llama3_inv_freq(const torch::Tensor& inv_freq, const RopeParameters& rope) {
  const double context = static_cast<double>(rope.original_max_position_embeddings);
  const double low_freq_wavelen = context / rope.low_freq_factor;
  const double high_freq_wavelen = context / rope.high_freq_factor;
  const torch::Tensor wavelen = 2 * std::numbers::pi / inv_freq;
  torch::Tensor scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / rope.factor, inv_freq);
  const torch::Tensor smooth =
      (context / wavelen - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
  const torch::Tensor smoothed = (1 - smooth) * scaled / rope.factor + smooth * scaled;
  const torch::Tensor medium = torch::logical_not(wavelen < high_freq_wavelen) &
                               torch::logical_not(wavelen > low_freq_wavelen);
  return torch::where(medium, smoothed, scaled);
}

}  // namespace

LlamaRotaryEmbeddingImpl::LlamaRotaryEmbeddingImpl(const LlamaConfig& config)
    : torch::nn::Module(config.class_prefix() + "RotaryEmbedding") {
  torch::NoGradGuard no_grad;
  inv_freq = default_inv_freq(config.rope.rope_theta, config.head_dim);
  if (config.rope.rope_type == "llama3") inv_freq = llama3_inv_freq(inv_freq, config.rope);
}

std::pair<torch::Tensor, torch::Tensor> LlamaRotaryEmbeddingImpl::forward(
    int64_t seq_len, c10::ScalarType dtype, const c10::Device& device) {
  torch::NoGradGuard no_grad;
  const torch::Tensor positions =
      torch::arange(seq_len, torch::dtype(torch::kFloat).device(device));
  const torch::Tensor freqs = torch::outer(positions, inv_freq.to(device));
  const torch::Tensor angles = torch::cat({freqs, freqs}, -1);  // [seq_len, head_dim]
  return {angles.cos().to(dtype), angles.sin().to(dtype)};
}

}  // namespace llmc::models
