#include <fstream>
#include <llmc/error.hpp>
#include <llmc/models/llama_config.hpp>
#include <map>

namespace llmc::models {
namespace {

using Json = nlohmann::json;

const std::map<std::string, std::string> kClassPrefix = {
    {"llama", "Llama"}, {"mistral", "Mistral"}, {"qwen2", "Qwen2"}, {"qwen3", "Qwen3"}};

// Reads config.json keys with the source path in every error; a key holding null counts as
// absent, as transformers treats it.
class ConfigReader {
 public:
  ConfigReader(const Json& json, std::string source) : json_(json), source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(source_ + ": " + key + ": " + what);
  }
  bool has(const Json& object, const std::string& key) const {
    return object.contains(key) && !object.at(key).is_null();
  }
  bool has(const std::string& key) const { return has(json_, key); }

  template <typename T>
  T required(const std::string& key) const {
    if (!has(key)) throw Error(source_ + ": missing required key '" + key + "'");
    return get<T>(json_, key, key);
  }
  template <typename T>
  T optional(const std::string& key, T fallback) const {
    return has(key) ? get<T>(json_, key, key) : fallback;
  }
  // `object[key]`, reported as `path` ("rope_parameters.factor").
  template <typename T>
  T get(const Json& object, const std::string& key, const std::string& path) const {
    try {
      return object.at(key).get<T>();
    } catch (const Json::exception& e) {
      fail(path, std::string("wrong type (") + e.what() + ")");
    }
  }
  // Sizes: integers > 0.
  int64_t required_size(const std::string& key) const {
    return positive(key, required<int64_t>(key));
  }
  int64_t optional_size(const std::string& key, int64_t fallback) const {
    return positive(key, optional<int64_t>(key, fallback));
  }
  const Json& json() const { return json_; }

 private:
  int64_t positive(const std::string& key, int64_t value) const {
    if (value <= 0) fail(key, "must be positive, got " + std::to_string(value));
    return value;
  }

  const Json& json_;
  std::string source_;
};

c10::ScalarType parse_dtype(const ConfigReader& reader, const std::string& key) {
  const auto name = reader.required<std::string>(key);
  if (name == "float32" || name == "float") return c10::ScalarType::Float;
  if (name == "bfloat16") return c10::ScalarType::BFloat16;
  if (name == "float16" || name == "half") return c10::ScalarType::Half;
  reader.fail(key, "unsupported dtype '" + name + "' (supported: float32, bfloat16, float16)");
}

// transformers v5 keeps RoPE settings in "rope_parameters"; v4 in "rope_theta" plus an optional
// "rope_scaling" whose type key was once "type". v5 reads rope_scaling first, then
// rope_parameters, and falls back to the top-level rope_theta, then 10000 (modeling_rope_utils
// convert_rope_params_to_dict).
RopeParameters parse_rope(const ConfigReader& reader, int64_t max_position_embeddings) {
  RopeParameters rope;
  rope.rope_theta = reader.optional<double>("rope_theta", 10000.0);
  const std::string section = reader.has("rope_scaling") ? "rope_scaling" : "rope_parameters";
  if (!reader.has(section)) return rope;
  const Json& params = reader.json().at(section);
  if (!params.is_object()) reader.fail(section, "must be an object");
  const auto field = [&](const std::string& key) {
    if (!reader.has(params, key)) reader.fail(section, "missing required key '" + key + "'");
    return reader.get<double>(params, key, section + "." + key);
  };
  const std::string type_key = reader.has(params, "rope_type") ? "rope_type" : "type";
  if (reader.has(params, type_key)) {
    rope.rope_type = reader.get<std::string>(params, type_key, section + "." + type_key);
  }
  if (reader.has(params, "rope_theta")) rope.rope_theta = field("rope_theta");
  if (reader.has(params, "partial_rotary_factor") && field("partial_rotary_factor") != 1.0) {
    reader.fail(section + ".partial_rotary_factor", "only 1.0 (full rotary) is supported");
  }
  if (rope.rope_type == "llama3") {
    rope.factor = field("factor");
    rope.low_freq_factor = field("low_freq_factor");
    rope.high_freq_factor = field("high_freq_factor");
    rope.original_max_position_embeddings =
        reader.has(params, "original_max_position_embeddings")
            ? static_cast<int64_t>(field("original_max_position_embeddings"))
            : max_position_embeddings;
    if (rope.high_freq_factor <= rope.low_freq_factor) {
      reader.fail(section + ".high_freq_factor", "must exceed low_freq_factor");
    }
  } else if (rope.rope_type != "default") {
    reader.fail(section + "." + type_key,
                "unsupported rope type '" + rope.rope_type + "' (supported: default, llama3)");
  }
  return rope;
}

// Mistral slides on every layer whenever sliding_window is set; Qwen2/3 only with
// use_sliding_window, on the layers layer_types marks (by default those from
// max_window_layers on), as transformers' Qwen2Config.__post_init__.
std::vector<std::optional<int64_t>> parse_attention_windows(const ConfigReader& reader,
                                                            const std::string& model_type,
                                                            int64_t num_layers) {
  std::vector<std::optional<int64_t>> windows(num_layers);
  const bool qwen = model_type == "qwen2" || model_type == "qwen3";
  if (model_type == "llama" || !reader.has("sliding_window")) return windows;
  if (qwen && !reader.optional<bool>("use_sliding_window", false)) return windows;
  const int64_t window = reader.required_size("sliding_window");
  if (!qwen) {
    for (auto& w : windows) w = window;
    return windows;
  }
  if (reader.has("layer_types")) {
    const auto types = reader.required<std::vector<std::string>>("layer_types");
    if (static_cast<int64_t>(types.size()) != num_layers) {
      reader.fail("layer_types", "has " + std::to_string(types.size()) +
                                     " entries for num_hidden_layers " +
                                     std::to_string(num_layers));
    }
    for (int64_t i = 0; i < num_layers; ++i) {
      if (types[i] == "sliding_attention") {
        windows[i] = window;
      } else if (types[i] != "full_attention") {
        reader.fail("layer_types", "unknown layer type '" + types[i] +
                                       "' (known: full_attention, sliding_attention)");
      }
    }
    return windows;
  }
  const int64_t first_sliding = reader.optional<int64_t>("max_window_layers", 28);
  for (int64_t i = first_sliding; i < num_layers; ++i) windows[i] = window;
  return windows;
}

void parse_architecture(const ConfigReader& reader, LlamaConfig& config) {
  config.vocab_size = reader.required_size("vocab_size");
  config.hidden_size = reader.required_size("hidden_size");
  config.intermediate_size = reader.required_size("intermediate_size");
  config.num_hidden_layers = reader.required_size("num_hidden_layers");
  config.num_attention_heads = reader.required_size("num_attention_heads");
  config.num_key_value_heads =
      reader.optional_size("num_key_value_heads", config.num_attention_heads);
  if (config.num_attention_heads % config.num_key_value_heads != 0) {
    reader.fail("num_key_value_heads", "must divide num_attention_heads (" +
                                           std::to_string(config.num_attention_heads) + ")");
  }
  // transformers' defaults: Qwen3Config.head_dim = 128, the others hidden / heads.
  const int64_t default_head_dim =
      config.model_type == "qwen3" ? 128 : config.hidden_size / config.num_attention_heads;
  config.head_dim = reader.optional_size("head_dim", default_head_dim);
  if (config.head_dim % 2 != 0) reader.fail("head_dim", "must be even for rotary embeddings");
  config.max_position_embeddings = reader.required_size("max_position_embeddings");
  config.rms_norm_eps = reader.required<double>("rms_norm_eps");
}

void parse_layer_options(const ConfigReader& reader, LlamaConfig& config) {
  const auto hidden_act = reader.optional<std::string>("hidden_act", "silu");
  if (hidden_act != "silu") {
    reader.fail("hidden_act", "unsupported activation '" + hidden_act + "' (supported: silu)");
  }
  config.tie_word_embeddings = reader.optional<bool>("tie_word_embeddings", false);
  const bool attention_bias = reader.optional<bool>("attention_bias", false);
  // transformers' Qwen2Attention hard-codes bias=True on q/k/v and False on o; Mistral has none.
  if (config.model_type == "qwen2") {
    config.qkv_bias = true;
  } else if (config.model_type != "mistral") {
    config.qkv_bias = config.o_proj_bias = attention_bias;
  }
  config.mlp_bias = config.model_type == "llama" && reader.optional<bool>("mlp_bias", false);
  config.qk_norm = config.model_type == "qwen3";
}

}  // namespace

LlamaConfig LlamaConfig::from_json(const Json& json, const std::string& source) {
  if (!json.is_object()) throw Error(source + ": config must be a JSON object");
  const ConfigReader reader(json, source);
  LlamaConfig config;
  config.json = json;
  config.model_type = reader.required<std::string>("model_type");
  if (kClassPrefix.count(config.model_type) == 0) {
    reader.fail("model_type", "unsupported '" + config.model_type +
                                  "' (supported: llama, mistral, qwen2, qwen3)");
  }
  parse_architecture(reader, config);
  parse_layer_options(reader, config);
  config.rope = parse_rope(reader, config.max_position_embeddings);
  config.attention_windows =
      parse_attention_windows(reader, config.model_type, config.num_hidden_layers);
  if (reader.has("dtype")) {
    config.dtype = parse_dtype(reader, "dtype");
  } else if (reader.has("torch_dtype")) {
    config.dtype = parse_dtype(reader, "torch_dtype");
  }
  return config;
}

LlamaConfig LlamaConfig::from_file(const std::filesystem::path& config_json) {
  std::ifstream in(config_json);
  if (!in) throw Error(config_json.string() + ": cannot open");
  Json json;
  try {
    json = Json::parse(in);
  } catch (const Json::exception& e) {
    throw Error(config_json.string() + ": malformed JSON: " + e.what());
  }
  return from_json(json, config_json.string());
}

std::string LlamaConfig::class_prefix() const {
  auto it = kClassPrefix.find(model_type);
  return it == kClassPrefix.end() ? "Llama" : it->second;
}

}  // namespace llmc::models
