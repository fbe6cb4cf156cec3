// LlamaConfig: the fields of a Hugging Face config.json that a Llama-family decoder (Llama,
// Mistral, Qwen2, Qwen3) needs, read from both transformers v4 (rope_theta, rope_scaling,
// torch_dtype) and v5 (rope_parameters, dtype) spellings, validated once.
//
//   auto config = llmc::models::LlamaConfig::from_file("Qwen3-0.6B/config.json");
#pragma once

#include <c10/core/ScalarType.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace llmc::models {

// RoPE frequencies: "default" (θ^(-2i/d)) or "llama3" (Llama 3.1's band-wise rescaling of the
// default ones; the four factors are used only then). Other rope types are rejected.
struct RopeParameters {
  std::string rope_type = "default";
  double rope_theta = 10000.0;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;
};

struct LlamaConfig {
  std::string model_type;  // llama, mistral, qwen2 or qwen3
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // default: num_attention_heads
  int64_t head_dim = 0;             // default: hidden_size / num_attention_heads (qwen3: 128)
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  RopeParameters rope;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;     // qwen2: always; llama, qwen3: attention_bias
  bool o_proj_bias = false;  // llama, qwen3: attention_bias
  bool mlp_bias = false;     // llama: mlp_bias
  bool qk_norm = false;      // qwen3: RMSNorm over head_dim on queries and keys
  // Per layer, the attention window (a query sees keys at most this many positions back,
  // itself included), std::nullopt for full causal attention. Mistral: sliding_window on every
  // layer; Qwen2/3: on "sliding_attention" layer_types when use_sliding_window.
  std::vector<std::optional<int64_t>> attention_windows;
  std::optional<c10::ScalarType> dtype;  // config "dtype" / "torch_dtype", when given
  nlohmann::json json;                   // config.json as read, to save beside the tensors

  // Errors are llmc::Error prefixed with `source` (the config path): a missing required key
  // names the key, an unsupported model_type / hidden_act / rope type names the key and the
  // supported values.
  static LlamaConfig from_json(const nlohmann::json& json, const std::string& source);
  static LlamaConfig from_file(const std::filesystem::path& config_json);

  // Transformers' class-name prefix for model_type: "Llama", "Mistral", "Qwen2", "Qwen3".
  std::string class_prefix() const;
};

}  // namespace llmc::models
