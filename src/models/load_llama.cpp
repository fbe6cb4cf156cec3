// load_llama: a placeholder model (no random init) whose parameters are set from the checkpoint
// after a strict name and shape check; llama_tensors: the way back.
#include <llmc/error.hpp>
#include <llmc/io/checkpoint.hpp>
#include <llmc/models/llama.hpp>
#include <llmc/nn/modules.hpp>
#include <map>
#include <sstream>

namespace llmc::models {
namespace {

using Shape = std::vector<int64_t>;
constexpr const char* kLmHeadWeight = "lm_head.weight";
constexpr const char* kEmbedWeight = "model.embed_tokens.weight";

std::string shape_string(c10::IntArrayRef shape) {
  std::ostringstream out;
  out << shape;
  return out.str();
}

// The shape every parameter must have, from the module options (placeholders are empty).
std::map<std::string, Shape> parameter_shapes(const LlamaForCausalLMImpl& model) {
  std::map<std::string, Shape> shapes;
  for (const auto& [name, module] : llmc::nn::named_modules(model)) {
    const std::string prefix = name.empty() ? "" : name + ".";
    if (auto* linear = dynamic_cast<const llmc::nn::LinearImpl*>(module.get())) {
      const auto& o = linear->options;
      shapes[prefix + "weight"] = {o.out_features(), o.in_features()};
      if (o.bias()) shapes[prefix + "bias"] = {o.out_features()};
    } else if (auto* norm = dynamic_cast<const LlamaRMSNormImpl*>(module.get())) {
      shapes[prefix + "weight"] = {norm->dim};
    } else if (auto* embedding = dynamic_cast<const EmbeddingImpl*>(module.get())) {
      shapes[prefix + "weight"] = {embedding->num_embeddings, embedding->embedding_dim};
    }
  }
  return shapes;
}

// Old Llama conversions saved the non-persistent RoPE buffer; transformers skips it on load.
bool is_ignored_buffer(const std::string& name) { return name.ends_with(".rotary_emb.inv_freq"); }

[[noreturn]] void fail_names(const std::string& path, const std::string& what,
                             const std::vector<std::string>& names, const std::string& why) {
  std::string message = path + ": " + what + " '" + names.front() + "'";
  if (names.size() > 1) message += " (and " + std::to_string(names.size() - 1) + " more)";
  throw Error(message + ": " + why);
}

// Every parameter the model needs is in the files with its shape, and the files hold nothing
// else. A tied lm_head.weight may be saved anyway (older checkpoints): then it must equal the
// embedding it is tied to.
void check_tensors(const io::TensorMap& tensors, const std::map<std::string, Shape>& expected,
                   bool tied, const std::string& path) {
  std::vector<std::string> missing, unexpected;
  for (const auto& [name, shape] : expected) {
    const bool optional = tied && name == kLmHeadWeight;
    if (tensors.count(name) == 0 && !optional) missing.push_back(name);
  }
  for (const auto& [name, tensor] : tensors) {
    if (expected.count(name) == 0 && !is_ignored_buffer(name)) unexpected.push_back(name);
  }
  if (!missing.empty()) fail_names(path, "missing tensor", missing, "the model needs it");
  if (!unexpected.empty()) {
    fail_names(path, "unexpected tensor", unexpected, "not a parameter of the model");
  }
  for (const auto& [name, shape] : expected) {
    auto it = tensors.find(name);
    if (it == tensors.end()) continue;
    if (it->second.sizes() != c10::IntArrayRef(shape)) {
      throw Error(path + ": tensor '" + name + "' has shape " + shape_string(it->second.sizes()) +
                  ", expected " + shape_string(shape));
    }
  }
  if (tied && tensors.count(kLmHeadWeight) != 0 &&
      !torch::equal(tensors.at(kLmHeadWeight), tensors.at(kEmbedWeight))) {
    throw Error(path + ": tensor '" + std::string(kLmHeadWeight) + "' differs from '" +
                kEmbedWeight + "' but tie_word_embeddings is true");
  }
}

}  // namespace

LlamaForCausalLM load_llama(const std::filesystem::path& path, const LoadOptions& options) {
  io::HFModel files = io::load_hf_model(path);
  const std::string config_path = (path / "config.json").string();
  if (files.config.empty()) throw Error(config_path + ": no config.json in the model directory");
  const LlamaConfig config = LlamaConfig::from_json(files.config, config_path);
  const c10::ScalarType dtype = options.dtype().value_or(config.dtype.value_or(torch::kFloat));

  LlamaForCausalLM model(config, ParameterInit::Placeholder);
  const auto expected = parameter_shapes(*model);
  check_tensors(files.tensors, expected, config.tie_word_embeddings, path.string());

  torch::NoGradGuard no_grad;
  for (auto& parameter : model->named_parameters()) {
    const std::string& name = parameter.key();
    if (expected.count(name) == 0) throw Error("load_llama: no shape for parameter " + name);
    if (config.tie_word_embeddings && name == kLmHeadWeight) continue;  // set via the embedding
    // copy=true: the mapped tensors are read-only and must not alias the parameters.
    parameter.value().set_data(files.tensors.at(name).to(
        torch::TensorOptions().dtype(dtype).device(options.device()), /*non_blocking=*/false,
        /*copy=*/true));
  }
  model->eval();
  return model;
}

io::TensorMap llama_tensors(const LlamaForCausalLMImpl& model) {
  io::TensorMap tensors;
  for (const auto& parameter : model.named_parameters()) {
    if (model.config().tie_word_embeddings && parameter.key() == kLmHeadWeight) continue;
    tensors.emplace(parameter.key(), parameter.value());
  }
  return tensors;
}

}  // namespace llmc::models
