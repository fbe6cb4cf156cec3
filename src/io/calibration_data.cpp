#include <ATen/CPUGeneratorImpl.h>

#include <llmc/error.hpp>
#include <llmc/io/calibration_data.hpp>
#include <llmc/io/safetensors.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace llmc::io {
namespace {

std::string ext_of(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

at::Tensor sample_from_json(const nlohmann::json& value, const std::string& where) {
  const nlohmann::json* ids = &value;
  if (value.is_object()) {
    auto it = value.find("input_ids");
    if (it == value.end()) throw Error(where + ": no \"input_ids\" key");
    ids = &*it;
  }
  if (!ids->is_array()) throw Error(where + ": \"input_ids\" is not an array of token ids");
  std::vector<int64_t> tokens;
  tokens.reserve(ids->size());
  for (const auto& id : *ids) {
    if (!id.is_number_integer()) throw Error(where + ": token id " + id.dump() + " is not an integer");
    tokens.push_back(id.get<int64_t>());
  }
  return at::tensor(tokens, at::kLong);
}

std::vector<at::Tensor> read_safetensors_ids(const std::filesystem::path& path) {
  const auto file = read_safetensors(path);
  auto ids = file.tensors.find("input_ids");
  if (ids == file.tensors.end()) throw Error(path.string() + ": no tensor \"input_ids\"");
  if (ids->second.dim() != 2 || at::isFloatingType(ids->second.scalar_type())) {
    throw Error(path.string() + ": \"input_ids\" must be a 2-D integer tensor [samples, tokens]");
  }
  const at::Tensor all = ids->second.to(at::kLong);
  at::Tensor lengths;
  if (auto mask = file.tensors.find("attention_mask"); mask != file.tensors.end()) {
    if (!mask->second.sizes().equals(all.sizes())) {
      throw Error(path.string() + ": \"attention_mask\" shape differs from \"input_ids\"");
    }
    lengths = mask->second.to(at::kLong).sum(1);
  }
  std::vector<at::Tensor> samples;
  for (int64_t i = 0; i < all.size(0); ++i) {
    const int64_t length = lengths.defined() ? lengths[i].item<int64_t>() : all.size(1);
    samples.push_back(all[i].slice(0, 0, length).clone());
  }
  return samples;
}

}  // namespace

std::vector<at::Tensor> read_token_dataset(const std::filesystem::path& path,
                                           const TokenDatasetOptions& options, int64_t vocab_size) {
  if (options.num_samples() < 1 || options.max_seq_length() < 1) {
    throw Error("calibration data " + path.string() + ": num_samples and max_seq_length must be >= 1");
  }
  const std::string ext = ext_of(path);
  std::vector<at::Tensor> samples;
  std::vector<std::string> where;  // per sample, for errors
  if (ext == ".safetensors") {
    samples = read_safetensors_ids(path);
    for (size_t i = 0; i < samples.size(); ++i) where.push_back(path.string() + ": sample " + std::to_string(i));
  } else if (ext == ".jsonl" || ext == ".json") {
    std::ifstream in(path);
    if (!in) throw Error("calibration data " + path.string() + ": cannot open");
    if (ext == ".jsonl") {
      std::string line;
      for (int64_t line_no = 1; std::getline(in, line) &&
                                static_cast<int64_t>(samples.size()) < options.num_samples();
           ++line_no) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string at = path.string() + ":" + std::to_string(line_no);
        nlohmann::json value;
        try {
          value = nlohmann::json::parse(line);
        } catch (const std::exception& e) {
          throw Error(at + ": not JSON: " + e.what());
        }
        samples.push_back(sample_from_json(value, at));
        where.push_back(at);
      }
    } else {
      nlohmann::json value;
      try {
        value = nlohmann::json::parse(in);
      } catch (const std::exception& e) {
        throw Error(path.string() + ": not JSON: " + e.what());
      }
      if (!value.is_array()) throw Error(path.string() + ": expected an array of samples");
      for (size_t i = 0; i < value.size(); ++i) {
        where.push_back(path.string() + ": sample " + std::to_string(i));
        samples.push_back(sample_from_json(value[i], where.back()));
      }
    }
  } else {
    throw Error("calibration data " + path.string() +
                ": unknown format (expected .safetensors, .jsonl or .json)");
  }
  if (static_cast<int64_t>(samples.size()) > options.num_samples()) samples.resize(static_cast<size_t>(options.num_samples()));
  std::vector<at::Tensor> batches;
  for (size_t i = 0; i < samples.size(); ++i) {
    at::Tensor s = samples[i];
    if (s.numel() == 0) throw Error(where[i] + ": no tokens");
    if (s.min().item<int64_t>() < 0 || (vocab_size > 0 && s.max().item<int64_t>() >= vocab_size)) {
      throw Error(where[i] + ": token id out of range [0, " +
                  (vocab_size > 0 ? std::to_string(vocab_size) : std::string("inf")) + ")");
    }
    if (s.numel() > options.max_seq_length()) s = s.slice(0, 0, options.max_seq_length());
    batches.push_back(s.reshape({1, -1}).contiguous());
  }
  if (batches.empty()) throw Error("calibration data " + path.string() + ": no samples");
  return batches;
}

std::vector<at::Tensor> random_token_dataset(int64_t num_samples, int64_t length, int64_t vocab_size,
                                             uint64_t seed) {
  if (num_samples < 1 || length < 1 || vocab_size < 1) {
    throw Error("random_token_dataset: num_samples, length and vocab_size must be >= 1");
  }
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<at::Tensor> batches;
  for (int64_t i = 0; i < num_samples; ++i) {
    batches.push_back(at::randint(vocab_size, {1, length}, generator, at::kLong));
  }
  return batches;
}

}  // namespace llmc::io
