// models/: the Llama-family decoder against transformers (tests/oracle/llama_models.py): tiny
// random Llama / Mistral / Qwen2 / Qwen3 checkpoints written by save_pretrained give the same
// logits here, with the same module and parameter names; the loader's strictness and the
// config's errors on checkpoints edited in temporary directories; tied embeddings; saving back.
#include <functional>
#include <llmc/error.hpp>
#include <llmc/io/checkpoint.hpp>
#include <llmc/models/llama.hpp>
#include <llmc/nn/modules.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/error_of.hpp"
#include "support/oracle.hpp"

using Catch::Matchers::Contains;
using llmc::models::load_llama;
using llmc::models::LoadOptions;
using llmc::test::error_of;
using Json = nlohmann::json;

namespace {

const llmc::test::Oracle& oracle() { return llmc::test::Oracle::get("llama_models"); }

const Json& oracle_case(const std::string& id) {
  for (const auto& c : oracle().cases()) {
    if (c.at("id") == id) return c;
  }
  throw std::runtime_error("llama_models oracle has no case " + id);
}

std::filesystem::path checkpoint(const std::string& id) {
  oracle();  // runs the script if the fixture has not
  return std::filesystem::path(LLMC_ORACLE_DIR) / "llama_models" / id;
}

// A copy of an oracle checkpoint in a fresh temporary directory, tensors and config edited.
std::filesystem::path edited_checkpoint(
    const std::string& id, const std::function<void(llmc::io::TensorMap&, Json&)>& edit) {
  auto files = llmc::io::load_hf_model(checkpoint(id));
  edit(files.tensors, files.config);
  const auto dir = llmc::test::temp_dir("llama-" + id);
  llmc::io::save_checkpoint(dir, files.tensors, files.config);
  return dir;
}

std::filesystem::path edited_config(const std::string& id, const std::function<void(Json&)>& edit) {
  return edited_checkpoint(id, [&](llmc::io::TensorMap&, Json& config) { edit(config); });
}

torch::Tensor logits_of(llmc::models::LlamaForCausalLM& model, const std::string& id) {
  torch::NoGradGuard no_grad;
  return model(oracle().tensor(oracle_case(id), "input_ids"));
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Logits within 1e-4 (absolute and relative) of transformers' fp32 ones.
void check_logits_match(const torch::Tensor& actual, const torch::Tensor& expected) {
  REQUIRE(actual.sizes() == expected.sizes());
  REQUIRE(actual.scalar_type() == expected.scalar_type());
  INFO("max |logit difference| " << max_abs_diff(actual, expected) << ", max |logit| "
                                 << expected.abs().max().item<double>());
  CHECK(torch::allclose(actual, expected, /*rtol=*/1e-4, /*atol=*/1e-4));
}

// Attention windows per layer, 0 for full attention (printable by Catch, unlike optionals).
std::vector<int64_t> windows(const llmc::models::LlamaConfig& config) {
  std::vector<int64_t> out;
  for (const auto& window : config.attention_windows) out.push_back(window.value_or(0));
  return out;
}

const std::vector<std::string> kFp32Cases = {"llama",         "llama3_rope", "llama_bias",
                                             "llama_tied",    "mistral",     "qwen2",
                                             "qwen2_sliding", "qwen3"};

}  // namespace

TEST_CASE("llama-family logits match transformers in fp32 for every model type") {
  std::set<std::string> model_types;
  for (const auto& id : kFp32Cases) {
    INFO("case " << id);
    auto model = load_llama(checkpoint(id));
    model_types.insert(model->config().model_type);
    check_logits_match(logits_of(model, id), oracle().tensor(oracle_case(id), "logits"));
  }
  CHECK(model_types == std::set<std::string>{"llama", "mistral", "qwen2", "qwen3"});
}

TEST_CASE("llama3 rope scaling changes the logits as transformers does") {
  const Json& scaled = oracle_case("llama3_rope");
  const std::string plain = scaled.at("same_weights_default_rope");
  auto model = load_llama(checkpoint("llama3_rope"));
  CHECK(model->config().rope.rope_type == "llama3");
  const torch::Tensor logits = logits_of(model, "llama3_rope");
  check_logits_match(logits, oracle().tensor(scaled, "logits"));
  // Same weights and input with default RoPE give logits far outside the tolerance.
  REQUIRE(torch::equal(oracle().tensor(scaled, "input_ids"),
                       oracle().tensor(oracle_case(plain), "input_ids")));
  CHECK(max_abs_diff(logits, oracle().tensor(oracle_case(plain), "logits")) > 1e-2);
}

TEST_CASE("sliding-window layers attend only within the window, as transformers does") {
  for (const std::string id : {"mistral", "qwen2_sliding"}) {
    INFO("case " << id);
    auto model = load_llama(checkpoint(id));
    const torch::Tensor expected = oracle().tensor(oracle_case(id), "logits");
    check_logits_match(logits_of(model, id), expected);
    // With every window removed the logits leave the tolerance: the window is what matched.
    for (auto& layer : model->model->decoder_layers) layer->attention_window.reset();
    CHECK(max_abs_diff(logits_of(model, id), expected) > 1e-2);
  }
  const auto qwen2 = load_llama(checkpoint("qwen2_sliding"))->config();
  CHECK(windows(qwen2) == std::vector<int64_t>{0, 6});
}

TEST_CASE("a bf16 checkpoint loads in its config dtype and matches transformers to bf16 rounding") {
  const Json& c = oracle_case("llama_mha_bf16");
  auto model = load_llama(checkpoint("llama_mha_bf16"));
  for (const auto& p : model->named_parameters()) {
    INFO(p.key());
    CHECK(p.value().scalar_type() == torch::kBFloat16);
  }
  const torch::Tensor logits = logits_of(model, "llama_mha_bf16");
  const torch::Tensor expected = oracle().tensor(c, "logits");
  REQUIRE(logits.scalar_type() == torch::kBFloat16);
  REQUIRE(expected.scalar_type() == torch::kBFloat16);
  // bf16 spacing is 2^-7 relative: 2% of the largest logit allows a few ulps there.
  const double scale = expected.abs().max().item<double>();
  INFO("max |logit difference| " << max_abs_diff(logits, expected) << ", max |logit| " << scale);
  CHECK(max_abs_diff(logits, expected) < 0.02 * scale);
}

TEST_CASE("LoadOptions dtype overrides the config dtype and parameters own their memory") {
  auto model = load_llama(checkpoint("llama"), LoadOptions().dtype(torch::kBFloat16));
  for (const auto& p : model->named_parameters())
    CHECK(p.value().scalar_type() == torch::kBFloat16);
  // The loader copies out of the read-only file mapping: writing a parameter is safe and leaves
  // the file alone.
  torch::NoGradGuard no_grad;
  model->model->norm->weight.mul_(2.0);
  const auto file = llmc::io::load_hf_model(checkpoint("llama")).tensors;
  CHECK(torch::equal(model->model->norm->weight.to(torch::kFloat),
                     2.0 * file.at("model.norm.weight").to(torch::kBFloat16).to(torch::kFloat)));
}

TEST_CASE("module names and classes equal transformers' named_modules") {
  for (const std::string id : {"llama", "llama_tied", "mistral", "qwen2", "qwen3"}) {
    INFO("case " << id);
    auto model = load_llama(checkpoint(id));
    std::vector<std::pair<std::string, std::string>> ours, theirs;
    for (const auto& [name, module] : llmc::nn::named_modules(*model)) {
      ours.emplace_back(name, llmc::nn::module_class_names(*module).front());
    }
    for (const auto& entry : oracle_case(id).at("modules")) {
      theirs.emplace_back(entry.at(0).get<std::string>(), entry.at(1).get<std::string>());
    }
    REQUIRE(theirs.size() > 20);
    CHECK(ours == theirs);
  }
}

TEST_CASE("parameter names equal transformers' named_parameters, tied lm_head included") {
  for (const std::string id : {"llama", "llama_bias", "llama_tied", "mistral", "qwen2", "qwen3"}) {
    INFO("case " << id);
    auto model = load_llama(checkpoint(id));
    std::vector<std::string> ours;
    for (const auto& p : model->named_parameters()) ours.push_back(p.key());
    const auto theirs = oracle_case(id).at("parameters").get<std::vector<std::string>>();
    REQUIRE(theirs.size() > 20);
    CHECK(ours == theirs);
  }
}

TEST_CASE("every projection is a hookable llmc::nn::Linear that CT targets match") {
  auto model = load_llama(checkpoint("qwen3"));
  const auto linears = llmc::nn::match_named_linears(*model, {"Linear"}, {"lm_head"});
  CHECK(linears.size() == 2 * 7);
  CHECK(llmc::nn::named_linears(*model).size() == 2 * 7 + 1);
  // Upstream-style regex targets and class targets reach the layers by their HF names.
  CHECK(llmc::nn::match_named_linears(*model, {"re:.*self_attn\\.(q|k)_proj$"}).size() == 4);
  CHECK(llmc::nn::match_named_modules(*model, {"Qwen3DecoderLayer"}).size() == 2);

  std::vector<c10::IntArrayRef::value_type> seen_width;
  int calls = 0;
  auto handle = model->model->decoder_layers.at(1)->mlp->down_proj->register_forward_pre_hook(
      [&](llmc::nn::LinearImpl&, const torch::Tensor& x) {
        ++calls;
        seen_width.push_back(x.size(-1));
        return std::optional<torch::Tensor>{};
      });
  logits_of(model, "qwen3");
  CHECK(calls == 1);
  CHECK(seen_width == std::vector<int64_t>{model->config().intermediate_size});
  handle.remove();
}

TEST_CASE("tied embeddings share one tensor between lm_head and embed_tokens") {
  auto model = load_llama(checkpoint("llama_tied"));
  REQUIRE(model->config().tie_word_embeddings);
  CHECK(model->lm_head->weight.is_same(model->model->embed_tokens->weight));
  const auto file = llmc::io::load_hf_model(checkpoint("llama_tied")).tensors;
  REQUIRE(file.count("lm_head.weight") == 0);
  CHECK(torch::equal(model->lm_head->weight, file.at("model.embed_tokens.weight")));
  // In-place edits (a quantizer rewriting lm_head) reach the embedding, as in transformers.
  torch::NoGradGuard no_grad;
  model->lm_head->weight.zero_();
  CHECK(model->model->embed_tokens->weight.abs().sum().item<double>() == 0.0);
}

TEST_CASE("a tied checkpoint may also store lm_head.weight, only equal to the embedding") {
  const auto same = edited_checkpoint("llama_tied", [](llmc::io::TensorMap& t, Json&) {
    t["lm_head.weight"] = t.at("model.embed_tokens.weight").clone();
  });
  auto model = load_llama(same);
  check_logits_match(logits_of(model, "llama_tied"),
                     oracle().tensor(oracle_case("llama_tied"), "logits"));
  const auto differs = edited_checkpoint("llama_tied", [](llmc::io::TensorMap& t, Json&) {
    t["lm_head.weight"] = t.at("model.embed_tokens.weight") + 1.0;
  });
  CHECK_THAT(error_of([&] { load_llama(differs); }),
             Contains("lm_head.weight") && Contains("tie_word_embeddings"));
}

TEST_CASE("llama_tensors gives back the checkpoint's tensors, bit for bit, and saves loadably") {
  for (const std::string id : {"llama", "llama_tied", "qwen2"}) {
    INFO("case " << id);
    auto model = load_llama(checkpoint(id));
    const auto file = llmc::io::load_hf_model(checkpoint(id));
    const auto tensors = llmc::models::llama_tensors(*model);
    std::set<std::string> ours, theirs;
    for (const auto& [name, t] : tensors) ours.insert(name);
    for (const auto& [name, t] : file.tensors) theirs.insert(name);
    REQUIRE(ours == theirs);
    for (const auto& [name, t] : file.tensors) LLMC_CHECK_BIT_EQUAL(tensors.at(name), t, name);

    const auto dir = llmc::test::temp_dir("llama-save-" + id);
    llmc::io::save_checkpoint(dir, tensors, model->config().json);
    auto reloaded = load_llama(dir);
    LLMC_CHECK_BIT_EQUAL(logits_of(reloaded, id), logits_of(model, id), "logits after reload");
  }
}

TEST_CASE("transformers v4 config keys (rope_theta, rope_scaling, torch_dtype) read as v5's") {
  const auto dir = edited_config("llama3_rope", [](Json& config) {
    Json rope = config.at("rope_parameters");
    config["rope_theta"] = rope.at("rope_theta");
    rope.erase("rope_theta");
    rope["type"] = rope.at("rope_type");  // the oldest spelling of the type key
    rope.erase("rope_type");
    config["rope_scaling"] = rope;
    config.erase("rope_parameters");
    config["torch_dtype"] = "bfloat16";
    config.erase("dtype");
  });
  auto model = load_llama(dir, LoadOptions().dtype(torch::kFloat));
  const auto& config = model->config();
  CHECK(config.rope.rope_type == "llama3");
  CHECK(config.rope.original_max_position_embeddings == 64);
  CHECK(config.dtype == torch::kBFloat16);
  check_logits_match(logits_of(model, "llama3_rope"),
                     oracle().tensor(oracle_case("llama3_rope"), "logits"));
}

TEST_CASE("config defaults follow transformers per model type") {
  const Json base = {{"hidden_size", 64},
                     {"intermediate_size", 96},
                     {"num_hidden_layers", 2},
                     {"num_attention_heads", 4},
                     {"vocab_size", 128},
                     {"rms_norm_eps", 1e-6},
                     {"max_position_embeddings", 256}};
  const auto parse = [&](const std::string& type, Json extra = Json::object()) {
    Json json = base;
    json["model_type"] = type;
    json.update(extra);
    return llmc::models::LlamaConfig::from_json(json, "config.json");
  };
  const auto llama = parse("llama");
  CHECK(llama.num_key_value_heads == 4);
  CHECK(llama.head_dim == 16);
  CHECK(llama.rope.rope_type == "default");
  CHECK(llama.rope.rope_theta == 10000.0);
  CHECK_FALSE(llama.tie_word_embeddings);
  CHECK_FALSE(llama.dtype.has_value());
  CHECK(parse("qwen3").head_dim == 128);
  const auto qwen2 = parse("qwen2", {{"attention_bias", false}});
  CHECK(qwen2.qkv_bias);
  CHECK_FALSE(qwen2.o_proj_bias);
  CHECK_FALSE(parse("mistral", {{"attention_bias", true}}).qkv_bias);
  CHECK(windows(parse("mistral", {{"sliding_window", 4096}})) == std::vector<int64_t>{4096, 4096});
  CHECK(windows(parse("mistral", {{"sliding_window", nullptr}})) == std::vector<int64_t>{0, 0});
  // Qwen2 slides only with use_sliding_window, from max_window_layers on.
  CHECK(windows(parse("qwen2", {{"sliding_window", 8}})) == std::vector<int64_t>{0, 0});
  CHECK(windows(parse("qwen2", {{"use_sliding_window", true},
                                {"sliding_window", 8},
                                {"max_window_layers", 1}})) == std::vector<int64_t>{0, 8});
}

TEST_CASE("a checkpoint missing a parameter is rejected naming the tensor and the path") {
  const auto dir = edited_checkpoint("qwen2", [](llmc::io::TensorMap& t, Json&) {
    t.erase("model.layers.1.self_attn.k_proj.bias");
  });
  CHECK_THAT(error_of([&] { load_llama(dir); }),
             Contains(dir.string()) && Contains("missing tensor") &&
                 Contains("'model.layers.1.self_attn.k_proj.bias'"));
  // An untied model needs its lm_head.weight.
  const auto no_head =
      edited_checkpoint("llama", [](llmc::io::TensorMap& t, Json&) { t.erase("lm_head.weight"); });
  CHECK_THAT(error_of([&] { load_llama(no_head); }),
             Contains("missing tensor") && Contains("'lm_head.weight'"));
}

TEST_CASE("a tensor the model does not have is rejected naming it and the path") {
  const auto dir = edited_checkpoint("llama", [](llmc::io::TensorMap& t, Json&) {
    t["model.layers.0.self_attn.q_proj.weight_scale"] = torch::ones({64, 1});
  });
  CHECK_THAT(error_of([&] { load_llama(dir); }),
             Contains(dir.string()) && Contains("unexpected tensor") &&
                 Contains("'model.layers.0.self_attn.q_proj.weight_scale'"));
  // qwen3 norms do not exist in a llama: the model type decides the parameter set.
  const auto qwen3_as_llama =
      edited_config("qwen3", [](Json& config) { config["model_type"] = "llama"; });
  CHECK_THAT(error_of([&] { load_llama(qwen3_as_llama); }),
             Contains("unexpected tensor") && Contains("_norm.weight'"));
  // The RoPE buffer old conversions saved is skipped, as transformers skips it.
  const auto with_inv_freq = edited_checkpoint("llama", [](llmc::io::TensorMap& t, Json&) {
    t["model.layers.0.self_attn.rotary_emb.inv_freq"] = torch::ones({8});
  });
  CHECK_NOTHROW(load_llama(with_inv_freq));
}

TEST_CASE("a tensor of the wrong shape is rejected naming it and both shapes") {
  const auto dir = edited_checkpoint("llama", [](llmc::io::TensorMap& t, Json&) {
    t["model.layers.1.mlp.up_proj.weight"] = torch::zeros({64, 96});
  });
  CHECK_THAT(error_of([&] { load_llama(dir); }), Contains("'model.layers.1.mlp.up_proj.weight'") &&
                                                     Contains("[64, 96]") &&
                                                     Contains("expected [96, 64]"));
  // A config that disagrees with the tensors shows up the same way.
  const auto wide = edited_config("llama", [](Json& config) { config["intermediate_size"] = 128; });
  CHECK_THAT(error_of([&] { load_llama(wide); }),
             Contains("has shape [64, 96], expected [64, 128]"));
}

TEST_CASE("unsupported rope types are rejected naming the key and the supported ones") {
  const auto yarn = edited_config("llama", [](Json& config) {
    config["rope_parameters"] = {{"rope_type", "yarn"}, {"factor", 4.0}, {"rope_theta", 1e4}};
  });
  CHECK_THAT(error_of([&] { load_llama(yarn); }),
             Contains((yarn / "config.json").string()) && Contains("rope_parameters.rope_type") &&
                 Contains("'yarn'") && Contains("default, llama3"));
  const auto linear = edited_config("llama", [](Json& config) {
    config["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  });
  CHECK_THAT(error_of([&] { load_llama(linear); }),
             Contains("rope_scaling.type") && Contains("'linear'"));
  const auto incomplete = edited_config(
      "llama3_rope", [](Json& config) { config["rope_parameters"].erase("low_freq_factor"); });
  CHECK_THAT(error_of([&] { load_llama(incomplete); }),
             Contains("rope_parameters") && Contains("'low_freq_factor'"));
}

TEST_CASE("activations other than silu are rejected naming hidden_act") {
  const auto dir = edited_config("mistral", [](Json& config) { config["hidden_act"] = "gelu"; });
  CHECK_THAT(error_of([&] { load_llama(dir); }), Contains((dir / "config.json").string()) &&
                                                     Contains("hidden_act") && Contains("'gelu'") &&
                                                     Contains("silu"));
}

TEST_CASE("unsupported model types are rejected naming the supported ones") {
  const auto dir = edited_config("llama", [](Json& config) { config["model_type"] = "gemma"; });
  CHECK_THAT(error_of([&] { load_llama(dir); }), Contains("model_type") && Contains("'gemma'") &&
                                                     Contains("llama, mistral, qwen2, qwen3"));
}

TEST_CASE("a config missing a required key is rejected naming the key and the file") {
  for (const std::string key :
       {"model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
        "num_attention_heads", "rms_norm_eps", "max_position_embeddings"}) {
    INFO("key " << key);
    const auto dir = edited_config("qwen3", [&](Json& config) {
      REQUIRE(config.contains(key));
      config.erase(key);
    });
    CHECK_THAT(
        error_of([&] { load_llama(dir); }),
        Contains((dir / "config.json").string()) && Contains("missing required key '" + key + "'"));
  }
  // A key saved as null counts as missing, as in transformers.
  const auto null_heads =
      edited_config("llama", [](Json& config) { config["num_attention_heads"] = nullptr; });
  CHECK_THAT(error_of([&] { load_llama(null_heads); }),
             Contains("missing required key 'num_attention_heads'"));
}

TEST_CASE("forward rejects input_ids that are not integer [batch, seq_len] within the vocab") {
  auto model = load_llama(checkpoint("llama"));
  CHECK_THAT(error_of([&] { model(torch::zeros({2, 3})); }), Contains("input_ids"));
  CHECK_THAT(error_of([&] { model(torch::zeros({6}, torch::kLong)); }), Contains("input_ids"));
  CHECK_THAT(error_of([&] {
               model(torch::full({1, 3}, 128, torch::kLong));
             }),
             Contains("out of range [0, 128)"));
  CHECK(model(torch::zeros({1, 3}, torch::kInt)).sizes() == c10::IntArrayRef({1, 3, 128}));
}
