#include <llmc/error.hpp>
#include <llmc/io/compressors.hpp>
#include <llmc/io/save_compressed.hpp>
#include <llmc/nn/linear.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/version.hpp>

namespace llmc::io {

nlohmann::json compressed_quantization_config(const ConfigGroups& groups, const std::string& format,
                                              const std::vector<std::string>& ignore) {
  QuantizationConfig config;
  config.config_groups(groups);
  config.ignore(ignore);
  config.format(format);
  config.quantization_status(QuantizationStatus::Compressed);
  nlohmann::json json = config.to_json();
  json.erase("quant_method");
  json["quant_method"] = "compressed-tensors";
  json["version"] = kCompressedTensorsVersion;
  json["sparsity_config"] = nlohmann::json::object();
  json["transform_config"] = nlohmann::json::object();
  return json;
}

CompressedCheckpoint compress_model(const torch::nn::Module& model, const TensorMap& tensors) {
  CompressedCheckpoint result;
  result.tensors = tensors;
  ConfigGroups groups;  // one group per distinct scheme (with its format), in module order
  std::vector<std::string> formats, ignore;
  for (const auto& [name, linear] : nn::named_linears(model)) {
    if (!linear->quantization_scheme || !linear->quantization_scheme->weights() ||
        !linear->has_qparam("weight_scale")) {
      ignore.push_back(name);
      continue;
    }
    QuantizationScheme scheme = *linear->quantization_scheme;
    const std::string format = infer_module_format(scheme);
    TensorMap local;
    const std::string prefix = name + ".";
    for (auto it = result.tensors.lower_bound(prefix);
         it != result.tensors.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
      const std::string key = it->first.substr(prefix.size());
      if (key.find('.') == std::string::npos) {
        local[key] = it->second;
        it = result.tensors.erase(it);
      } else {
        ++it;  // a child module's tensor
      }
    }
    if (local.count("weight") == 0 || local.count("weight_scale") == 0) {
      throw Error(name + ": the tensors to save lack " +
                  std::string(local.count("weight") ? "weight_scale" : "weight") +
                  " of this quantized Linear");
    }
    try {
      for (auto& [key, value] : compress_state_dict(local, scheme, format)) {
        result.tensors[prefix + key] = value;
      }
    } catch (const std::exception& e) {
      rethrow_with_context(name, e);
    }
    scheme.format(format);
    formats.push_back(format);
    result.compressed_modules.push_back(name);
    // Modules of one config group carry the same scheme (targets included): one group each.
    bool known = false;
    for (const auto& group : groups) known = known || group.second.to_json() == scheme.to_json();
    if (!known) groups.emplace_back("group_" + std::to_string(groups.size()), scheme);
  }
  result.quantization_config = compressed_quantization_config(groups, summarize_formats(formats), ignore);
  return result;
}

}  // namespace llmc::io
