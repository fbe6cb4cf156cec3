// RMSNorm, Embedding, MLP and the decoder layer (attention and RoPE are in their own files).
#include <torch/nn/init.h>

#include <llmc/models/llama_layers.hpp>

#include "make_linear.hpp"

namespace llmc::models {
namespace {

torch::Tensor new_parameter(std::vector<int64_t> shape, ParameterInit init) {
  return init == ParameterInit::Random ? torch::empty(shape) : torch::empty({0});
}

}  // namespace

LlamaRMSNormImpl::LlamaRMSNormImpl(int64_t dim_, double eps_, const std::string& class_prefix,
                                   ParameterInit init)
    : torch::nn::Module(class_prefix + "RMSNorm"), dim(dim_), eps(eps_) {
  weight = register_parameter("weight", new_parameter({dim}, init));
  if (init == ParameterInit::Random) {
    torch::NoGradGuard no_grad;
    weight.fill_(1.0);
  }
}

torch::Tensor LlamaRMSNormImpl::forward(const torch::Tensor& x) {
  const torch::Tensor x32 = x.to(torch::kFloat);
  const torch::Tensor normed = x32 * torch::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

EmbeddingImpl::EmbeddingImpl(int64_t num_embeddings_, int64_t embedding_dim_, ParameterInit init)
    : torch::nn::Module("Embedding"),
      num_embeddings(num_embeddings_),
      embedding_dim(embedding_dim_) {
  weight = register_parameter("weight", new_parameter({num_embeddings, embedding_dim}, init));
  if (init == ParameterInit::Random) torch::nn::init::normal_(weight);
}

torch::Tensor EmbeddingImpl::forward(const torch::Tensor& ids) {
  return torch::embedding(weight, ids);
}

void EmbeddingImpl::tie_weight(const torch::Tensor& shared) {
  parameters_.erase("weight");
  weight = register_parameter("weight", shared, shared.requires_grad());
}

torch::Tensor SiLUActivationImpl::forward(const torch::Tensor& x) { return torch::silu(x); }

LlamaMLPImpl::LlamaMLPImpl(const LlamaConfig& config, ParameterInit init)
    : torch::nn::Module(config.class_prefix() + "MLP") {
  const int64_t hidden = config.hidden_size;
  const int64_t inner = config.intermediate_size;
  gate_proj = register_module("gate_proj", make_linear(hidden, inner, config.mlp_bias, init));
  up_proj = register_module("up_proj", make_linear(hidden, inner, config.mlp_bias, init));
  down_proj = register_module("down_proj", make_linear(inner, hidden, config.mlp_bias, init));
  act_fn = register_module("act_fn", SiLUActivation());
}

torch::Tensor LlamaMLPImpl::forward(const torch::Tensor& x) {
  return down_proj(act_fn(gate_proj(x)) * up_proj(x));
}

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const LlamaConfig& config, int64_t layer_index,
                                             ParameterInit init)
    : torch::nn::Module(config.class_prefix() + "DecoderLayer"),
      attention_window(config.attention_windows.at(layer_index)) {
  const std::string prefix = config.class_prefix();
  self_attn = register_module("self_attn", LlamaAttention(config, init));
  mlp = register_module("mlp", LlamaMLP(config, init));
  input_layernorm = register_module(
      "input_layernorm", LlamaRMSNorm(config.hidden_size, config.rms_norm_eps, prefix, init));
  post_attention_layernorm =
      register_module("post_attention_layernorm",
                      LlamaRMSNorm(config.hidden_size, config.rms_norm_eps, prefix, init));
}

torch::Tensor LlamaDecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                             const torch::Tensor& sin,
                                             const std::optional<torch::Tensor>& mask) {
  const torch::Tensor h = x + self_attn(input_layernorm(x), cos, sin, mask);
  return h + mlp(post_attention_layernorm(h));
}

}  // namespace llmc::models
