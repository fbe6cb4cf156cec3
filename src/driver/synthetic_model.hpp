// The built-in default model of `llmc quantize`: a seeded, Llama-shaped set of tensors
// (embedding, attention and MLP projections, norms, lm_head) so the main job runs anywhere.
#pragma once

#include <llmc/io/checkpoint.hpp>

#include <cstdint>

namespace llmc::driver {

struct SyntheticModelOptions {
  int64_t hidden_size = 512;
  int64_t intermediate_size = 1536;
  int64_t num_layers = 2;
  int64_t num_heads = 8;
  int64_t num_kv_heads = 2;
  int64_t vocab_size = 1024;
  c10::ScalarType dtype = at::kBFloat16;
  uint64_t seed = 0;
};

io::HFModel make_synthetic_model(const SyntheticModelOptions& options);

}  // namespace llmc::driver
