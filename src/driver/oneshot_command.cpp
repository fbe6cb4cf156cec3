#include "oneshot_command.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <llmc/dist/process_group.hpp>
#include <llmc/entrypoints/oneshot.hpp>
#include <llmc/error.hpp>
#include <llmc/io/atomic_write.hpp>
#include <llmc/io/calibration_data.hpp>
#include <llmc/io/checkpoint.hpp>
#include <llmc/io/save_compressed.hpp>
#include <llmc/models/llama.hpp>
#include <llmc/recipe/recipe.hpp>

#include "cli_args.hpp"
#include "default_recipe.hpp"

namespace llmc::driver {
namespace {

// The built-in model: a small seeded Llama (same weights on every rank).
models::LlamaForCausalLM builtin_model(uint64_t seed, const c10::Device& device) {
  const nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}},
                                 {"model_type", "llama"},
                                 {"hidden_size", 256},
                                 {"intermediate_size", 768},
                                 {"num_hidden_layers", 2},
                                 {"num_attention_heads", 8},
                                 {"num_key_value_heads", 2},
                                 {"vocab_size", 1024},
                                 {"max_position_embeddings", 2048},
                                 {"rms_norm_eps", 1e-5},
                                 {"rope_theta", 10000.0},
                                 {"hidden_act", "silu"},
                                 {"tie_word_embeddings", false},
                                 {"torch_dtype", "float32"}};
  torch::manual_seed(seed);
  models::LlamaForCausalLM model(models::LlamaConfig::from_json(config, "built-in model"));
  model->to(device);
  model->eval();
  return model;
}

std::optional<c10::ScalarType> parse_dtype(const std::string& name) {
  if (name == "auto") return std::nullopt;
  if (name == "float32" || name == "fp32") return at::kFloat;
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  if (name == "float16" || name == "fp16") return at::kHalf;
  throw Error("--dtype " + name + ": expected auto, float32, bfloat16 or float16");
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Rank 0's part: compress, write the checkpoint (config.json, model.safetensors), the recipe
// that ran and the optional report, each through a temporary name.
void save_outputs(const CliArgs& cli, models::LlamaForCausalLMImpl& model, const OneshotResult& result,
                  double seconds) {
  io::TensorMap tensors;
  for (const auto& [name, tensor] : models::llama_tensors(model)) tensors[name] = tensor.detach().cpu();
  const auto compressed = io::compress_model(model, tensors);
  nlohmann::json config = model.config().json;
  config["quantization_config"] = compressed.quantization_config;
  const std::filesystem::path out = cli.get("output");
  io::save_checkpoint(out, compressed.tensors, config);
  io::write_file_atomically(out / "recipe.yaml", [&](std::ostream& s) { s << result.recipe.to_yaml(); });
  if (cli.is_set("report")) {
    nlohmann::json report = {{"pipeline", result.pipeline},
                             {"world_size", result.process_group ? result.process_group->world_size() : 1},
                             {"seconds", seconds},
                             {"compressed_modules", compressed.compressed_modules},
                             {"format", compressed.quantization_config.value("format", "")},
                             {"warnings", result.warnings}};
    io::write_file_atomically(cli.get("report"), [&](std::ostream& s) { s << report.dump(2) << "\n"; });
  }
  std::cerr << "saved " << out.string() << " (" << compressed.compressed_modules.size()
            << " modules, format " << compressed.quantization_config.value("format", "") << ")\n";
}

int run(const CliArgs& cli) {
  const auto start = std::chrono::steady_clock::now();
  dist::ProcessGroupOptions group_options;
  if (cli.is_set("dist-timeout")) {
    double s = 0;
    try {
      s = std::stod(cli.get("dist-timeout"));
    } catch (const std::exception&) {
    }
    if (!(s > 0)) {
      throw Error("--dist-timeout " + cli.get("dist-timeout") + ": expected a positive number of seconds");
    }
    group_options.timeout(std::chrono::milliseconds(static_cast<int64_t>(s * 1000)));
  }
  if (cli.get("device") != "auto") group_options.device(c10::Device(cli.get("device")));
  // Created once, before anything slow, so a missing rank fails early. --dist-timeout wins
  // over LLMC_DIST_TIMEOUT, which from_env() applies.
  std::shared_ptr<dist::ProcessGroup> group;
  if (const auto env = dist::environment_from_env(); env.distributed()) {
    group = cli.is_set("dist-timeout") ? std::make_shared<dist::ProcessGroup>(env, group_options)
                                       : dist::ProcessGroup::from_env(group_options);
  }
  const std::string tag = group ? "[" + group->environment().describe() + "] " : "";
  const c10::Device device = group ? group->device()
                                   : (cli.get("device") == "auto"
                                          ? c10::Device(torch::cuda::is_available() ? "cuda" : "cpu")
                                          : c10::Device(cli.get("device")));

  models::LlamaForCausalLM model{nullptr};
  if (cli.is_set("model")) {
    model = models::load_llama(cli.get("model"),
                               models::LoadOptions().dtype(parse_dtype(cli.get("dtype"))).device(device));
  } else {
    std::cerr << tag << "no --model given: using the built-in seeded Llama (2 layers, hidden 256)\n";
    model = builtin_model(std::stoull(cli.get("seed")), device);
    if (auto dtype = parse_dtype(cli.get("dtype"))) model->to(*dtype);
  }
  const int64_t vocab = model->config().vocab_size;
  const auto data_options = io::TokenDatasetOptions()
                                .num_samples(std::stoll(cli.get("num-calibration-samples")))
                                .max_seq_length(std::stoll(cli.get("max-seq-length")));
  std::vector<at::Tensor> batches;
  if (cli.is_set("dataset")) {
    batches = io::read_token_dataset(cli.get("dataset"), data_options, vocab);
  } else {
    std::cerr << tag << "no --dataset given: calibrating on seeded random tokens\n";
    batches = io::random_token_dataset(data_options.num_samples(), data_options.max_seq_length(), vocab,
                                       std::stoull(cli.get("seed")));
  }
  if (!cli.is_set("recipe")) {
    std::cerr << tag << "no --recipe given: using the built-in " << kDefaultRecipeName << "\n";
  }
  const Recipe recipe = cli.is_set("recipe") ? Recipe::from_file(cli.get("recipe"))
                                             : Recipe::from_string(kDefaultRecipe);

  std::cerr << tag << "calibrating on " << batches.size() << " samples"
            << (group ? " (this rank: its slice of them)" : "") << "\n";
  const auto result = oneshot(model.ptr(), batches, recipe,
                              OneshotOptions().pipeline(cli.get("pipeline")).process_group(group));
  for (const auto& w : result.warnings) std::cerr << tag << "warning: " << w << "\n";
  if (!group || group->is_source()) save_outputs(cli, *model, result, seconds_since(start));
  // The others wait for rank 0's write, then every rank leaves together.
  if (group) group->barrier("checkpoint saved by rank 0", group->options().save_timeout());
  std::cerr << tag << "done in " << seconds_since(start) << " s\n";
  return 0;
}

}  // namespace

int run_oneshot(const std::vector<std::string>& argv) {
  CliArgs cli("oneshot",
              "Run a recipe with calibration data on a Hugging Face Llama/Mistral/Qwen2/Qwen3 model\n"
              "and save a compressed-tensors checkpoint (llm-compressor's oneshot). Launch it with\n"
              "torchrun --no-python --nproc-per-node N llmc oneshot ... to calibrate on N ranks.");
  cli.option("model", "", "HF model directory (none: a built-in seeded 2-layer Llama)")
      .option("recipe", "", "recipe file, YAML or JSON (none: the built-in recipes/imatrix_w4a16.yaml)")
      .option("dataset", "", "tokenized data: .safetensors (input_ids), .jsonl or .json (none: random tokens)")
      .option("num-calibration-samples", "64", "samples used (the first ones), over all ranks")
      .option("max-seq-length", "256", "longer samples are truncated")
      .option("pipeline", "independent", "calibration pipeline: independent, sequential, basic, datafree")
      .option("dtype", "auto", "auto (the model's), float32, bfloat16 or float16")
      .option("device", "auto", "auto (cuda:LOCAL_RANK when CUDA is available, else cpu), cpu, cuda:N")
      .option("dist-timeout", "", "seconds a rank waits for the others (default: LLMC_DIST_TIMEOUT, else 300)")
      .option("output", "llmc-out", "output checkpoint directory (written by rank 0 only)")
      .option("report", "", "write a JSON report to this file (rank 0)")
      .option("seed", "0", "seed of the built-in model and random data");
  if (!cli.parse(argv)) return 0;
  try {
    return run(cli);
  } catch (const dist::DistributedError& e) {
    // A peer is gone: report and leave at once, without tearing down collectives that wait on it.
    std::cerr << "llmc oneshot: error: " << e.what() << std::endl;
    std::fflush(nullptr);
    std::_Exit(1);
  }
}

}  // namespace llmc::driver
