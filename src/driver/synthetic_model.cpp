#include "synthetic_model.hpp"

#include <ATen/ATen.h>
#include <cmath>
#include <string>

namespace llmc::driver {

io::HFModel make_synthetic_model(const SyntheticModelOptions& o) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const int64_t head_dim = o.hidden_size / o.num_heads;
  auto linear = [&](int64_t out, int64_t in) {
    // Kaiming-like scale plus a few outlier input channels (about 1 in 60), as real
    // checkpoints have.
    at::Tensor w = at::randn({out, in}, gen) / std::sqrt(static_cast<double>(in));
    w.slice(1, 0, in, 61).mul_(4.0);
    return w.to(o.dtype);
  };
  io::HFModel model;
  model.tensors["model.embed_tokens.weight"] = linear(o.vocab_size, o.hidden_size);
  model.tensors["model.norm.weight"] = at::ones({o.hidden_size}).to(o.dtype);
  model.tensors["lm_head.weight"] = linear(o.vocab_size, o.hidden_size);
  for (int64_t l = 0; l < o.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    model.tensors[p + "input_layernorm.weight"] = at::ones({o.hidden_size}).to(o.dtype);
    model.tensors[p + "post_attention_layernorm.weight"] = at::ones({o.hidden_size}).to(o.dtype);
    model.tensors[p + "self_attn.q_proj.weight"] = linear(o.num_heads * head_dim, o.hidden_size);
    model.tensors[p + "self_attn.k_proj.weight"] = linear(o.num_kv_heads * head_dim, o.hidden_size);
    model.tensors[p + "self_attn.v_proj.weight"] = linear(o.num_kv_heads * head_dim, o.hidden_size);
    model.tensors[p + "self_attn.o_proj.weight"] = linear(o.hidden_size, o.num_heads * head_dim);
    model.tensors[p + "mlp.gate_proj.weight"] = linear(o.intermediate_size, o.hidden_size);
    model.tensors[p + "mlp.up_proj.weight"] = linear(o.intermediate_size, o.hidden_size);
    model.tensors[p + "mlp.down_proj.weight"] = linear(o.hidden_size, o.intermediate_size);
  }
  model.config = {{"architectures", {"LlamaForCausalLM"}},
                  {"model_type", "llama"},
                  {"hidden_size", o.hidden_size},
                  {"intermediate_size", o.intermediate_size},
                  {"num_hidden_layers", o.num_layers},
                  {"num_attention_heads", o.num_heads},
                  {"num_key_value_heads", o.num_kv_heads},
                  {"vocab_size", o.vocab_size},
                  {"torch_dtype", o.dtype == at::kBFloat16 ? "bfloat16" : "float32"}};
  return model;
}

}  // namespace llmc::driver
