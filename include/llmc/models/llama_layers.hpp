// The building blocks of a Llama-family decoder, each a torch module whose parameter names are
// those of transformers' modeling_llama / mistral / qwen2 / qwen3, and whose name() is
// transformers' class name for the model type ("Qwen2DecoderLayer", "Qwen3RMSNorm"), so recipe
// targets and sequential_targets written for llm-compressor match them. Linear layers are
// llmc::nn::Linear (hookable, quantizable).
//
//   llmc::models::LlamaDecoderLayer layer(config, /*layer_index=*/0);
//   auto [cos, sin] = rotary->forward(seq_len, torch::kFloat, device);
//   torch::Tensor y = layer->forward(x, cos, sin, std::nullopt);  // x, y: [B, L, hidden]
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <llmc/models/llama_config.hpp>
#include <llmc/nn/linear.hpp>
#include <optional>
#include <string>
#include <utility>

namespace llmc::models {

// Random: torch's default initialisation (Linear kaiming-uniform, Embedding N(0, 1), norms 1),
// for building a model from a config alone. Placeholder: zero-size parameters that load_llama
// replaces; such a module cannot run before it is loaded.
enum class ParameterInit { Random, Placeholder };

// weight * (x / sqrt(mean(x², -1) + eps)), the normalisation computed in fp32 and cast back to
// x's dtype before the weight multiplies it (transformers' LlamaRMSNorm). x: [..., dim].
class LlamaRMSNormImpl : public torch::nn::Module {
 public:
  LlamaRMSNormImpl(int64_t dim, double eps, const std::string& class_prefix = "Llama",
                   ParameterInit init = ParameterInit::Random);
  torch::Tensor forward(const torch::Tensor& x);

  int64_t dim;
  double eps;
  torch::Tensor weight;  // [dim]
};
TORCH_MODULE(LlamaRMSNorm);

// Token embedding lookup; ids: integer [...] → [..., embedding_dim]. Unlike torch::nn::Embedding
// its weight can be tied to another module's parameter (the same tensor registered in both).
class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim,
                ParameterInit init = ParameterInit::Random);
  torch::Tensor forward(const torch::Tensor& ids);
  // Registers `shared` as this module's weight (tie_word_embeddings).
  void tie_weight(const torch::Tensor& shared);

  int64_t num_embeddings;
  int64_t embedding_dim;
  torch::Tensor weight;  // [num_embeddings, embedding_dim]
};
TORCH_MODULE(Embedding);

// RoPE tables for positions 0..seq_len-1: cos and sin [seq_len, head_dim] in `dtype`, computed
// in fp32 from the config's inverse frequencies (default or llama3, modeling_rope_utils).
class LlamaRotaryEmbeddingImpl : public torch::nn::Module {
 public:
  explicit LlamaRotaryEmbeddingImpl(const LlamaConfig& config);
  std::pair<torch::Tensor, torch::Tensor> forward(int64_t seq_len, c10::ScalarType dtype,
                                                  const c10::Device& device);

  torch::Tensor inv_freq;  // [head_dim / 2], fp32, CPU; not a buffer (HF: non-persistent)
};
TORCH_MODULE(LlamaRotaryEmbedding);

// Causal self-attention with grouped KV heads and RoPE (Qwen3: RMSNorm on each query and key
// head first). x: [B, L, hidden] → [B, L, hidden]; `mask` (bool [L, L], true = attend) replaces
// the plain causal mask for sliding-window layers.
class LlamaAttentionImpl : public torch::nn::Module {
 public:
  LlamaAttentionImpl(const LlamaConfig& config, ParameterInit init = ParameterInit::Random);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const std::optional<torch::Tensor>& mask);

  int64_t num_heads;
  int64_t num_key_value_heads;
  int64_t head_dim;
  llmc::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  LlamaRMSNorm q_norm{nullptr}, k_norm{nullptr};  // Qwen3 only
};
TORCH_MODULE(LlamaAttention);

// x * sigmoid(x); a module (not a function) as in transformers, where it is `mlp.act_fn`.
class SiLUActivationImpl : public torch::nn::Module {
 public:
  SiLUActivationImpl() : torch::nn::Module("SiLUActivation") {}
  torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(SiLUActivation);

// down_proj(silu(gate_proj(x)) * up_proj(x)); x: [..., hidden] → [..., hidden].
class LlamaMLPImpl : public torch::nn::Module {
 public:
  LlamaMLPImpl(const LlamaConfig& config, ParameterInit init = ParameterInit::Random);
  torch::Tensor forward(const torch::Tensor& x);

  llmc::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
  SiLUActivation act_fn{nullptr};
};
TORCH_MODULE(LlamaMLP);

// Pre-norm residual block: x + attn(norm(x)), then h + mlp(norm(h)). [B, L, hidden] in and out.
class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  LlamaDecoderLayerImpl(const LlamaConfig& config, int64_t layer_index,
                        ParameterInit init = ParameterInit::Random);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const std::optional<torch::Tensor>& mask);

  // The attention window of this layer (config.attention_windows), std::nullopt when full.
  std::optional<int64_t> attention_window;
  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
  LlamaRMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

}  // namespace llmc::models
