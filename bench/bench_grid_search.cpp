// llmc_bench_grid_search: the MSE / imatrix grid search of llmc's fused kernel, of llmc's
// reference tensor loop, and of llm-compressor's own observers (memoryless_mse, imatrix_mse) on
// the same bf16 weights, in one run. llmc's columns time grid_search_mse on the flattened
// weight (the observer's hot loop); llm-compressor's time observer(weight) + get_qparams().
//
//   build/bench/llmc_bench_grid_search [--quick] [--shapes 4096x4096,...] [--repeats N]
//                                      [--no-reference] [--no-llmc-reference]
#include <ATen/Parallel.h>
#include <llmc/llmc.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <llmc/kernels/grid_search.hpp>
#include <llmc/observers/grid_search.hpp>
#include <llmc/observers/helpers.hpp>

namespace {

struct Options {
  std::vector<std::vector<int64_t>> shapes = {
      {4096, 4096}, {1024, 4096}, {14336, 4096}, {4096, 14336}};
  int repeats = 1;
  bool reference = true;       // llm-compressor
  bool llmc_reference = true;  // llmc's tensor loop
};

struct BenchCase {
  std::string id, shape, scheme, observer;
  llmc::QuantizationArgs args;
  double fused_s = 0.0, reference_s = 0.0, llm_compressor_s = 0.0;
  int64_t differing_groups = -1;  // fused vs llmc reference; -1 when the reference was skipped
};

std::vector<int64_t> parse_shape(const std::string& text) {
  const auto x = text.find('x');
  if (x == std::string::npos) throw llmc::Error("--shapes: expected ROWSxCOLS, got '" + text + "'");
  return {std::stoll(text.substr(0, x)), std::stoll(text.substr(x + 1))};
}

[[noreturn]] void usage(int code) {
  std::cerr << "usage: llmc_bench_grid_search [options]\n"
               "  --shapes RxC,...      weight shapes (default Llama-3-8B: 4096x4096,1024x4096,"
               "14336x4096,4096x14336)\n"
               "  --quick               small shapes 512x1024,256x2048\n"
               "  --repeats N           best of N runs (default 1)\n"
               "  --no-reference        skip llm-compressor\n"
               "  --no-llmc-reference   skip llmc's reference tensor loop\n";
  std::exit(code);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--shapes" && i + 1 < argc) {
      o.shapes.clear();
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) o.shapes.push_back(parse_shape(item));
    } else if (arg == "--quick") {
      o.shapes = {{512, 1024}, {256, 2048}};
    } else if (arg == "--repeats" && i + 1 < argc) {
      o.repeats = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--no-reference") {
      o.reference = false;
    } else if (arg == "--no-llmc-reference") {
      o.llmc_reference = false;
    } else {
      usage(arg == "--help" ? 0 : 2);
    }
  }
  return o;
}

std::string shape_name(const std::vector<int64_t>& shape) {
  return std::to_string(shape[0]) + "x" + std::to_string(shape[1]);
}

std::vector<BenchCase> make_cases(const Options& o, llmc::io::TensorMap& tensors) {
  std::vector<BenchCase> cases;
  at::manual_seed(0);
  for (const auto& shape : o.shapes) {
    const std::string name = shape_name(shape);
    tensors[name] = (at::randn(shape) * 0.02).to(at::kBFloat16);
    tensors[name + "/importance"] = at::rand({shape[1]}).pow(4) + 1e-3;
    for (const std::string scheme : {"W4A16", "W4A16_ASYM", "NVFP4A16"}) {
      for (const std::string observer : {"memoryless_mse", "imatrix_mse"}) {
        auto args = *llmc::preset_name_to_scheme(scheme, {"Linear"}).weights();
        args.observer(observer);
        cases.push_back({name + "/" + scheme + "/" + observer, name, scheme, observer,
                         args.validated()});
      }
    }
  }
  return cases;
}

// imatrix_mse's importance as the observer prepares it (LC §5.4): mean-normalised, per column.
at::Tensor prepared_importance(const at::Tensor& importance, const at::Tensor& weight,
                               const llmc::QuantizationArgs& args) {
  const at::Tensor normalised = importance / (importance.mean() + std::numeric_limits<float>::min());
  return llmc::flatten_for_calibration(normalised.unsqueeze(0).expand({weight.size(0), -1}),
                                       "weight", args);
}

// Best time over `repeats`; `result` receives the (min, max) of the last run.
double time_search(const BenchCase& c, const llmc::io::TensorMap& tensors,
                   llmc::GridSearchBackend backend, int repeats,
                   std::pair<at::Tensor, at::Tensor>& result) {
  const at::Tensor& weight = tensors.at(c.shape);
  const bool imatrix = c.observer == "imatrix_mse";
  const auto options = (imatrix ? llmc::GridSearchOptions::imatrix()
                                : llmc::GridSearchOptions::mse())
                           .backend(backend);
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", c.args);
    std::optional<at::Tensor> importance;
    if (imatrix) importance = prepared_importance(tensors.at(c.shape + "/importance"), weight, c.args);
    result = llmc::grid_search_mse(observed, c.args, options, importance);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

nlohmann::json run_llm_compressor(const std::vector<BenchCase>& cases,
                                  const llmc::io::TensorMap& tensors, int repeats) {
  const auto dir = std::filesystem::temp_directory_path() / "llmc-bench-grid-search";
  std::filesystem::create_directories(dir);
  llmc::io::save_safetensors(dir / "tensors.safetensors", tensors);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : cases) {
    list.push_back({{"id", c.id},
                    {"observer", c.observer},
                    {"weight", c.shape},
                    {"importance", c.observer == "imatrix_mse" ? c.shape + "/importance" : ""},
                    {"args", c.args.to_json()}});
  }
  std::ofstream(dir / "cases.json") << list.dump();
  const std::string cmd = std::string("\"") + LLMC_BENCH_PYTHON + "\" \"" + LLMC_BENCH_REFERENCE +
                          "\" " + (dir / "cases.json").string() + " " +
                          (dir / "tensors.safetensors").string() + " " + std::to_string(repeats) +
                          " " + (dir / "reference.json").string() + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw llmc::Error("llm-compressor benchmark failed: " + cmd);
  return nlohmann::json::parse(std::ifstream(dir / "reference.json"));
}

void print_table(const std::vector<BenchCase>& cases) {
  std::printf("%-11s %-11s %-15s %9s %9s %12s %9s %9s %9s\n", "shape", "scheme", "observer",
              "fused[s]", "ref[s]", "llm-comp[s]", "vs LC", "vs ref", "differ");
  for (const auto& c : cases) {
    const auto ratio = [&](double other) { return other > 0 ? other / c.fused_s : 0.0; };
    std::printf("%-11s %-11s %-15s %9.3f %9.3f %12.3f %8.1fx %8.1fx %9lld\n", c.shape.c_str(),
                c.scheme.c_str(), c.observer.c_str(), c.fused_s, c.reference_s,
                c.llm_compressor_s, ratio(c.llm_compressor_s), ratio(c.reference_s),
                static_cast<long long>(c.differing_groups));
  }
  std::printf("differ: scale groups whose range differs between fused and reference (-1: not run)\n");
  std::printf("threads: %d (at::get_num_threads), CPU capability %s\n", at::get_num_threads(),
              at::get_cpu_capability().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    llmc::io::TensorMap tensors;
    auto cases = make_cases(options, tensors);
    // One untimed search first, so that the first case does not also pay for starting ATen's
    // thread pool and faulting in the allocator's pages (the llm-compressor script does the same).
    if (!cases.empty()) {
      std::pair<at::Tensor, at::Tensor> warm_up;
      time_search(cases.front(), tensors, llmc::GridSearchBackend::Fused, 1, warm_up);
    }
    for (size_t i = 0; i < cases.size(); ++i) {
      auto& c = cases[i];
      std::pair<at::Tensor, at::Tensor> fused, reference;
      c.fused_s = time_search(c, tensors, llmc::GridSearchBackend::Fused, options.repeats, fused);
      if (options.llmc_reference) {
        c.reference_s = time_search(c, tensors, llmc::GridSearchBackend::Reference,
                                    options.repeats, reference);
        c.differing_groups = fused.first.ne(reference.first)
                                 .logical_or(fused.second.ne(reference.second))
                                 .sum()
                                 .item<int64_t>();
      }
      std::fprintf(stderr, "[%zu/%zu] %-44s fused %8.3f s  reference %8.3f s\n", i + 1,
                   cases.size(), c.id.c_str(), c.fused_s, c.reference_s);
    }
    if (options.reference) {
      std::fprintf(stderr, "running llm-compressor on the same tensors...\n");
      const nlohmann::json times = run_llm_compressor(cases, tensors, options.repeats);
      for (auto& c : cases) c.llm_compressor_s = times.at(c.id).get<double>();
    }
    print_table(cases);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "llmc_bench_grid_search: " << e.what() << "\n";
    return 1;
  }
}
