// llmc_bench_hook_overhead: what the imatrix importance hooks cost a calibration forward. A
// Llama-family model (models/) runs the same batch with no hooks and with an imatrix_mse
// observer's forward-pre hook on every Linear (Σx² per input column and the token count, as
// during calibration), alternating the two so machine noise hits both alike; prints the median
// times and the overhead (target: at most 2%). Defaults: one Llama-3-8B decoder layer.
// With --device cuda the model and batch live on the GPU and each timing ends with a device
// synchronisation (the hook's Σx² stays on the GPU, so no per-batch host sync is added).
//
//   build/bench/llmc_bench_hook_overhead [--hidden 4096] [--intermediate 14336] [--layers 1]
//                                        [--seq 256] [--batch 1] [--repeats 5]
//                                        [--dtype float32|bfloat16] [--device cpu|cuda]
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <llmc/models/llama.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/observers/squared_input_sums.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> o = {{"hidden", "4096"}, {"intermediate", "14336"},
                                          {"layers", "1"},     {"seq", "256"},
                                          {"batch", "1"},      {"repeats", "5"},
                                          {"dtype", "float32"},   {"device", "cpu"}};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc || o.count(a.substr(2)) == 0) {
      std::cerr << "usage: llmc_bench_hook_overhead [--hidden N] [--intermediate N] [--layers N] "
                   "[--seq N] [--batch N] [--repeats N] [--dtype float32|bfloat16] "
                   "[--device cpu|cuda]\n";
      std::exit(2);
    }
    o[a.substr(2)] = argv[++i];
  }
  return o;
}

double seconds(const std::function<void()>& fn, bool cuda) {
  if (cuda) torch::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  fn();
  if (cuda) torch::cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse(argc, argv);
  const bool cuda = o.at("device") == "cuda";
  if (!cuda && o.at("device") != "cpu") {
    std::cerr << "llmc_bench_hook_overhead: --device must be cpu or cuda, not " << o.at("device")
              << "\n";
    return 2;
  }
  if (cuda && !torch::cuda::is_available()) {
    std::cerr << "llmc_bench_hook_overhead: --device cuda, but no CUDA device is available\n";
    return 1;
  }
  const torch::Device device(cuda ? torch::kCUDA : torch::kCPU);
  const int64_t hidden = std::stoll(o.at("hidden"));
  const nlohmann::json config = {{"model_type", "llama"},
                                 {"hidden_size", hidden},
                                 {"intermediate_size", std::stoll(o.at("intermediate"))},
                                 {"num_hidden_layers", std::stoll(o.at("layers"))},
                                 {"num_attention_heads", hidden / 64},
                                 {"num_key_value_heads", std::max<int64_t>(1, hidden / 256)},
                                 {"vocab_size", 8192},
                                 {"max_position_embeddings", 4096},
                                 {"rms_norm_eps", 1e-5},
                                 {"hidden_act", "silu"}};
  torch::manual_seed(0);
  llmc::models::LlamaForCausalLM model(llmc::models::LlamaConfig::from_json(config, "bench"));
  if (o.at("dtype") == "bfloat16") model->to(torch::kBFloat16);
  model->to(device);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto ids = torch::randint(0, 8192, {std::stoll(o.at("batch")), std::stoll(o.at("seq"))},
                                  torch::TensorOptions().dtype(torch::kLong).device(device));

  std::vector<std::unique_ptr<llmc::IMatrixMSEObserver>> observers;
  const auto linears = llmc::nn::named_linears(*model);
  // As IMatrixGatherer and QuantizationModifier attach them: one Σx² cache for all hooks.
  const auto squared_sums = std::make_shared<llmc::SquaredInputSumsCache>();
  const auto attach = [&] {
    for (const auto& [name, linear] : linears) {
      observers.push_back(std::make_unique<llmc::IMatrixMSEObserver>(
          "weight", llmc::QuantizationArgs().num_bits(4).validated()));
      observers.back()->share_squared_sums(squared_sums);
      observers.back()->attach(*linear);
    }
  };
  const auto detach = [&] {
    for (size_t i = 0; i < observers.size(); ++i) observers[i]->detach(*linears[i].second);
    observers.clear();
    squared_sums->clear();
  };

  model->forward(ids);  // warm-up (allocator, thread pool)
  std::vector<double> plain, hooked;
  const int repeats = std::stoi(o.at("repeats"));
  for (int r = 0; r < repeats; ++r) {
    plain.push_back(seconds([&] { model->forward(ids); }, cuda));
    attach();
    hooked.push_back(seconds([&] { model->forward(ids); }, cuda));
    detach();
  }
  const double a = median(plain), b = median(hooked);
  std::printf("model: llama hidden %lld, %s layers, %zu Linear modules, %s on %s, tokens %lld, "
              "%d threads\n",
              static_cast<long long>(hidden), o.at("layers").c_str(), linears.size(),
              o.at("dtype").c_str(), o.at("device").c_str(), static_cast<long long>(ids.numel()),
              at::get_num_threads());
  std::printf("%-28s %12s\n", "forward", "median s");
  std::printf("%-28s %12.4f\n", "no hooks", a);
  std::printf("%-28s %12.4f\n", "imatrix hooks on every Linear", b);
  std::printf("overhead: %+.2f%% (target <= 2%%)\n", (b / a - 1.0) * 100.0);

  // The hook's Σx² alone on the layer's two input widths, as squared_input_sums runs it (one
  // pass on the CPU) against the ATen ops upstream runs (convert, square, sum).
  std::printf("\n%-28s %12s %12s %8s\n", "sum of x^2 per column", "llmc s", "ATen ops s",
              "ratio");
  const auto dtype = o.at("dtype") == "bfloat16" ? torch::kBFloat16 : torch::kFloat;
  for (const int64_t width : {hidden, static_cast<int64_t>(std::stoll(o.at("intermediate")))}) {
    const auto x = torch::randn({std::stoll(o.at("batch")), std::stoll(o.at("seq")), width},
                                torch::TensorOptions().dtype(dtype).device(device));
    std::vector<double> ours, aten;
    for (int r = 0; r < std::max(repeats, 5); ++r) {
      ours.push_back(seconds([&] { (void)llmc::squared_input_sums(x); }, cuda));
      aten.push_back(seconds([&] { (void)llmc::squared_input_sums_aten(x); }, cuda));
    }
    const std::string label = "input width " + std::to_string(width) +
                              (llmc::squared_input_sums_one_pass(x) ? " (one pass)" : " (ATen)");
    const double mine = median(ours), theirs = median(aten);
    std::printf("%-28s %12.6f %12.6f %7.2fx\n", label.c_str(), mine, theirs, theirs / mine);
  }
  return 0;
}
