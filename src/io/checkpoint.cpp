#include <llmc/error.hpp>
#include <llmc/io/atomic_write.hpp>
#include <llmc/io/checkpoint.hpp>

#include <fstream>
#include <set>

namespace llmc::io {
namespace {

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw Error(path.string() + ": malformed JSON: " + e.what());
  }
}

void merge_file(TensorMap& into, const std::filesystem::path& file) {
  for (auto& [name, tensor] : load_safetensors(file)) {
    if (!into.emplace(name, tensor).second) {
      throw Error(file.string() + ": tensor '" + name + "' also appears in another shard");
    }
  }
}

}  // namespace

HFModel load_hf_model(const std::filesystem::path& path) {
  HFModel model;
  model.config = nlohmann::json::object();
  if (std::filesystem::is_regular_file(path)) {
    merge_file(model.tensors, path);
    return model;
  }
  if (!std::filesystem::is_directory(path)) {
    throw Error(path.string() + ": no such model file or directory");
  }
  if (std::filesystem::exists(path / "config.json")) model.config = read_json(path / "config.json");
  const auto index = path / "model.safetensors.index.json";
  if (std::filesystem::exists(index)) {
    const auto json = read_json(index);
    if (!json.contains("weight_map") || !json["weight_map"].is_object()) {
      throw Error(index.string() + ": missing object 'weight_map'");
    }
    std::set<std::string> shards;
    for (const auto& [name, shard] : json["weight_map"].items()) shards.insert(shard.get<std::string>());
    for (const auto& shard : shards) merge_file(model.tensors, path / shard);
  } else if (std::filesystem::exists(path / "model.safetensors")) {
    merge_file(model.tensors, path / "model.safetensors");
  } else {
    throw Error(path.string() + ": no model.safetensors or model.safetensors.index.json");
  }
  return model;
}

void save_checkpoint(const std::filesystem::path& dir, const TensorMap& tensors,
                     const nlohmann::json& config) {
  std::filesystem::create_directories(dir);
  save_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
  // nlohmann::json objects are key-sorted, matching upstream's json.dump(sort_keys=True).
  write_file_atomically(dir / "config.json",
                        [&](std::ostream& out) { out << config.dump(2) << "\n"; });
}

}  // namespace llmc::io
