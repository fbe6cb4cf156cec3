// A Hugging Face Llama-family causal LM (Llama, Mistral, Qwen2, Qwen3) built from
// llmc::nn::Linear, loaded from a model directory (config.json + safetensors). Module and
// parameter names are transformers' ("model.layers.0.self_attn.q_proj", "lm_head"), so
// quantization recipes target it as they target the Python model, and llama_tensors() saves
// under the names the checkpoint had.
//
//   using namespace llmc::models;
//   LlamaForCausalLM model = load_llama("Qwen3-0.6B/", LoadOptions().dtype(torch::kBFloat16));
//   torch::Tensor logits = model(input_ids);  // int64 [B, L] → [B, L, vocab_size]
#pragma once

#include <torch/arg.h>
#include <torch/nn/modules/container/modulelist.h>

#include <filesystem>
#include <llmc/io/safetensors.hpp>
#include <llmc/models/llama_config.hpp>
#include <llmc/models/llama_layers.hpp>
#include <optional>
#include <vector>

namespace llmc::models {

// Embedding → decoder layers → final RMSNorm. input_ids: integer [B, L] → hidden [B, L, hidden].
// Every sequence is unpadded and starts at position 0: there is no attention mask, no KV cache.
class LlamaModelImpl : public torch::nn::Module {
 public:
  LlamaModelImpl(const LlamaConfig& config, ParameterInit init = ParameterInit::Random);
  torch::Tensor forward(const torch::Tensor& input_ids);

  Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};          // LlamaDecoderLayer, named "0", "1", ...
  std::vector<LlamaDecoderLayer> decoder_layers;  // the same modules, typed
  LlamaRMSNorm norm{nullptr};
  LlamaRotaryEmbedding rotary_emb{nullptr};
};
TORCH_MODULE(LlamaModel);

// LlamaModel plus the lm_head projection to the vocabulary. input_ids: integer [B, L] →
// logits [B, L, vocab_size] in the parameters' dtype. With tie_word_embeddings, lm_head.weight
// and model.embed_tokens.weight are one tensor (both names appear in named_parameters()).
class LlamaForCausalLMImpl : public torch::nn::Module {
 public:
  LlamaForCausalLMImpl(const LlamaConfig& config, ParameterInit init = ParameterInit::Random);
  torch::Tensor forward(const torch::Tensor& input_ids);

  const LlamaConfig& config() const { return config_; }

  LlamaModel model{nullptr};
  llmc::nn::Linear lm_head{nullptr};

 private:
  LlamaConfig config_;
};
TORCH_MODULE(LlamaForCausalLM);

struct LoadOptions {
  // Parameter dtype; default: the config's dtype / torch_dtype, else float32.
  TORCH_ARG(std::optional<c10::ScalarType>, dtype) = std::nullopt;
  TORCH_ARG(c10::Device, device) = c10::Device(c10::kCPU);
};

// `path`: a model directory (config.json and model.safetensors or a sharded index) as
// llmc::io::load_hf_model reads it. Strict: a tensor the model lacks, a parameter the files
// lack or a shape that differs is an llmc::Error naming the tensor and the path (and both
// shapes). A tied lm_head.weight may be absent (HF does not save it) or equal to the
// embedding. Parameters are copies (never views of the mapped files), in eval mode.
LlamaForCausalLM load_llama(const std::filesystem::path& path, const LoadOptions& options = {});

// Every parameter (weights, biases and any qparams the quantization added) under its HF name,
// as save_pretrained writes them: a tied lm_head.weight is left out. Tensors are the model's
// own (not copies).
llmc::io::TensorMap llama_tensors(const LlamaForCausalLMImpl& model);

}  // namespace llmc::models
