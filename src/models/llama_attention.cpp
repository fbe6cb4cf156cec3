// Self-attention of the Llama family: projections, optional per-head RMSNorm (Qwen3), RoPE on
// queries and keys, then causal scaled-dot-product attention with grouped KV heads.
#include <ATen/ops/scaled_dot_product_attention.h>

#include <cmath>
#include <llmc/models/llama_layers.hpp>

#include "make_linear.hpp"

namespace llmc::models {
namespace {

// RoPE in transformers' half-split layout: the first half of each head pairs with the second.
torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const torch::Tensor rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

}  // namespace

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig& config, ParameterInit init)
    : torch::nn::Module(config.class_prefix() + "Attention"),
      num_heads(config.num_attention_heads),
      num_key_value_heads(config.num_key_value_heads),
      head_dim(config.head_dim) {
  const int64_t hidden = config.hidden_size;
  const int64_t q_width = num_heads * head_dim;
  const int64_t kv_width = num_key_value_heads * head_dim;
  q_proj = register_module("q_proj", make_linear(hidden, q_width, config.qkv_bias, init));
  k_proj = register_module("k_proj", make_linear(hidden, kv_width, config.qkv_bias, init));
  v_proj = register_module("v_proj", make_linear(hidden, kv_width, config.qkv_bias, init));
  o_proj = register_module("o_proj", make_linear(q_width, hidden, config.o_proj_bias, init));
  if (config.qk_norm) {
    const std::string prefix = config.class_prefix();
    q_norm = register_module("q_norm", LlamaRMSNorm(head_dim, config.rms_norm_eps, prefix, init));
    k_norm = register_module("k_norm", LlamaRMSNorm(head_dim, config.rms_norm_eps, prefix, init));
  }
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                          const torch::Tensor& sin,
                                          const std::optional<torch::Tensor>& mask) {
  const int64_t batch = x.size(0);
  const int64_t seq_len = x.size(1);
  torch::Tensor q = q_proj(x).view({batch, seq_len, num_heads, head_dim});
  torch::Tensor k = k_proj(x).view({batch, seq_len, num_key_value_heads, head_dim});
  torch::Tensor v = v_proj(x).view({batch, seq_len, num_key_value_heads, head_dim});
  if (q_norm) {
    q = q_norm(q);
    k = k_norm(k);
  }
  // [B, heads, L, head_dim]; cos and sin [L, head_dim] broadcast over batch and heads.
  q = rotate(q.transpose(1, 2), cos, sin);
  k = rotate(k.transpose(1, 2), cos, sin);
  v = v.transpose(1, 2);
  const torch::Tensor attended = at::scaled_dot_product_attention(
      q, k, v, mask, /*dropout_p=*/0.0, /*is_causal=*/!mask.has_value(),
      /*scale=*/1.0 / std::sqrt(static_cast<double>(head_dim)),
      /*enable_gqa=*/num_key_value_heads != num_heads);
  return o_proj(attended.transpose(1, 2).reshape({batch, seq_len, num_heads * head_dim}));
}

}  // namespace llmc::models
