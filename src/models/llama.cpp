#include <llmc/error.hpp>
#include <llmc/models/llama.hpp>
#include <sstream>

#include "make_linear.hpp"

namespace llmc::models {
namespace {

// transformers' sliding window (masking_utils sliding_window_overlay): query i attends to key j
// when 0 <= i - j < window. std::nullopt when the window covers the whole sequence, so SDPA's
// plain causal path runs.
std::optional<torch::Tensor> sliding_window_mask(int64_t seq_len, std::optional<int64_t> window,
                                                 const c10::Device& device) {
  if (!window || *window >= seq_len) return std::nullopt;
  const torch::Tensor position = torch::arange(seq_len, torch::dtype(torch::kLong).device(device));
  const torch::Tensor distance = position.unsqueeze(1) - position.unsqueeze(0);
  return (distance >= 0) & (distance < *window);
}

void check_input_ids(const torch::Tensor& input_ids, int64_t vocab_size) {
  if (!input_ids.defined() || input_ids.dim() != 2 ||
      !c10::isIntegralType(input_ids.scalar_type(), /*includeBool=*/false)) {
    std::ostringstream got;
    if (input_ids.defined()) got << input_ids.scalar_type() << " " << input_ids.sizes();
    throw Error("LlamaModel.forward: input_ids must be an integer tensor [batch, seq_len], got " +
                (input_ids.defined() ? got.str() : std::string("an undefined tensor")));
  }
  if (input_ids.numel() > 0) {
    const auto [low, high] = torch::aminmax(input_ids);
    const torch::Tensor bounds = torch::stack({low, high}).to(torch::kCPU);  // one host sync
    if (bounds[0].item<int64_t>() < 0 || bounds[1].item<int64_t>() >= vocab_size) {
      throw Error("LlamaModel.forward: input_ids out of range [0, " + std::to_string(vocab_size) +
                  ")");
    }
  }
}

}  // namespace

LlamaModelImpl::LlamaModelImpl(const LlamaConfig& config, ParameterInit init)
    : torch::nn::Module(config.class_prefix() + "Model") {
  embed_tokens =
      register_module("embed_tokens", Embedding(config.vocab_size, config.hidden_size, init));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    decoder_layers.push_back(LlamaDecoderLayer(config, i, init));
    layers->push_back(decoder_layers.back());
  }
  norm = register_module(
      "norm", LlamaRMSNorm(config.hidden_size, config.rms_norm_eps, config.class_prefix(), init));
  rotary_emb = register_module("rotary_emb", LlamaRotaryEmbedding(config));
}

torch::Tensor LlamaModelImpl::forward(const torch::Tensor& input_ids) {
  check_input_ids(input_ids, embed_tokens->num_embeddings);
  torch::Tensor hidden = embed_tokens(input_ids);
  const int64_t seq_len = input_ids.size(1);
  const auto [cos, sin] = rotary_emb(seq_len, hidden.scalar_type(), hidden.device());
  for (auto& layer : decoder_layers) {
    hidden = layer(hidden, cos, sin,
                   sliding_window_mask(seq_len, layer->attention_window, hidden.device()));
  }
  return norm(hidden);
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const LlamaConfig& config, ParameterInit init)
    : torch::nn::Module(config.class_prefix() + "ForCausalLM"), config_(config) {
  model = register_module("model", LlamaModel(config, init));
  lm_head =
      register_module("lm_head", make_linear(config.hidden_size, config.vocab_size, false, init));
  if (config.tie_word_embeddings) model->embed_tokens->tie_weight(lm_head->weight);
}

torch::Tensor LlamaForCausalLMImpl::forward(const torch::Tensor& input_ids) {
  return lm_head(model(input_ids));
}

}  // namespace llmc::models
