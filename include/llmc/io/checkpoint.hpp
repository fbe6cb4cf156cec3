// Hugging Face model directories in (config.json + *.safetensors, sharded or not) and
// compressed-tensors checkpoints out (model.safetensors + config.json with
// "quantization_config", LC reference §8.1–8.2).
//
//   auto model = llmc::io::load_hf_model("Llama-3-8B/");
//   llmc::io::save_checkpoint("out/", tensors, config_json);
#pragma once

#include <llmc/io/safetensors.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

namespace llmc::io {

struct HFModel {
  TensorMap tensors;     // every tensor of every shard, by full name
  nlohmann::json config;  // config.json, or an empty object when there is none
};

// `path` is a directory (config.json, model.safetensors or model.safetensors.index.json with
// its shards) or a single .safetensors file. Errors name the file at fault.
HFModel load_hf_model(const std::filesystem::path& path);

// Writes <dir>/model.safetensors and <dir>/config.json (indent 2, sorted keys, as upstream),
// each through a temporary name renamed into place; creates `dir` when needed.
void save_checkpoint(const std::filesystem::path& dir, const TensorMap& tensors,
                     const nlohmann::json& config);

}  // namespace llmc::io
