// A calibrated model as a compressed-tensors checkpoint: upstream's
// save_pretrained(save_compressed=True) (LC reference §8.1–8.4). Every llmc::nn::Linear with a
// quantization scheme and weight qparams is compressed in the format inferred from its scheme;
// the other Linear layers go to the config's ignore list; every other tensor is kept as is.
//
//   llmc::io::CompressedCheckpoint c = llmc::io::compress_model(*model, model_tensors);
//   hf_config["quantization_config"] = c.quantization_config;
//   llmc::io::save_checkpoint("out/", c.tensors, hf_config);
#pragma once

#include <torch/nn/module.h>

#include <llmc/io/safetensors.hpp>
#include <llmc/quant/quantization_config.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace llmc::io {

struct CompressedCheckpoint {
  TensorMap tensors;                  // what model.safetensors holds
  nlohmann::json quantization_config;  // config.json["quantization_config"]
  std::vector<std::string> compressed_modules;
};

// `tensors` is the model's state under its checkpoint names (the module names of `model`, so
// "<module>.weight", "<module>.weight_scale", ... for each Linear). Throws llmc::Error naming the
// module when a quantized Linear's tensors are missing from `tensors`.
CompressedCheckpoint compress_model(const torch::nn::Module& model, const TensorMap& tensors);

// config.json's "quantization_config" for `groups` (each scheme's format set), the model-level
// `format` and the `ignore` list, status "compressed", as compressed-tensors writes it.
nlohmann::json compressed_quantization_config(const ConfigGroups& groups, const std::string& format,
                                              const std::vector<std::string>& ignore);

}  // namespace llmc::io
