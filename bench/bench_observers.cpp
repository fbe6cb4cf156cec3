// llmc_bench_observers: weight-observer time of llmc vs llm-compressor on the same tensors, in
// one run. Default shapes are Llama-3-8B's linear layers; configurations W4 group 128
// (symmetric and asymmetric) and NVFP4 group 16, observers memoryless_minmax and memoryless_mse.
//
//   build/bench/llmc_bench_observers [--shapes 4096x4096,1024x4096] [--repeats 2] [--no-reference]
#include <ATen/Parallel.h>
#include <llmc/llmc.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct BenchCase {
  std::string id, observer, scheme, weight;
  llmc::QuantizationArgs args;
  std::vector<int64_t> shape;
  double llmc_seconds = 0.0;
};

struct Options {
  std::vector<std::vector<int64_t>> shapes = {{4096, 4096}, {1024, 4096}, {14336, 4096}, {4096, 14336}};
  int repeats = 1;
  bool reference = true;
};

std::vector<int64_t> parse_shape(const std::string& text) {
  const auto x = text.find('x');
  if (x == std::string::npos) throw llmc::Error("--shapes: expected ROWSxCOLS, got '" + text + "'");
  return {std::stoll(text.substr(0, x)), std::stoll(text.substr(x + 1))};
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--shapes" && i + 1 < argc) {
      o.shapes.clear();
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) o.shapes.push_back(parse_shape(item));
    } else if (arg == "--repeats" && i + 1 < argc) {
      o.repeats = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--no-reference") {
      o.reference = false;
    } else {
      std::cerr << "usage: llmc_bench_observers [--shapes RxC,...] [--repeats N] [--no-reference]\n"
                   "  defaults: Llama-3-8B shapes 4096x4096,1024x4096,14336x4096,4096x14336, "
                   "1 repeat, with the llm-compressor reference\n";
      std::exit(arg == "--help" ? 0 : 2);
    }
  }
  return o;
}

std::vector<BenchCase> make_cases(const Options& o, llmc::io::TensorMap& weights) {
  std::vector<BenchCase> cases;
  at::manual_seed(0);
  for (const auto& shape : o.shapes) {
    const std::string name = std::to_string(shape[0]) + "x" + std::to_string(shape[1]);
    weights[name] = (at::randn(shape) * 0.02).to(at::kBFloat16);
    for (const std::string scheme : {"W4A16", "W4A16_ASYM", "NVFP4A16"}) {
      for (const std::string observer : {"memoryless_minmax", "memoryless_mse"}) {
        auto args = *llmc::preset_name_to_scheme(scheme, {"Linear"}).weights();
        args.observer(observer);
        cases.push_back({name + "/" + scheme + "/" + observer, observer, scheme, name,
                         args.validated(), shape});
      }
    }
  }
  return cases;
}

double time_llmc(BenchCase& c, const at::Tensor& weight, int repeats) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    auto observer = llmc::load_observer(c.observer, "weight", c.args);
    const auto start = std::chrono::steady_clock::now();
    (*observer)(weight);
    observer->get_qparams();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

nlohmann::json run_reference(const std::vector<BenchCase>& cases, const llmc::io::TensorMap& weights,
                             int repeats) {
  const auto dir = std::filesystem::temp_directory_path() / "llmc-bench-observers";
  std::filesystem::create_directories(dir);
  llmc::io::save_safetensors(dir / "weights.safetensors", weights);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : cases) {
    list.push_back({{"id", c.id}, {"observer", c.observer}, {"weight", c.weight}, {"args", c.args.to_json()}});
  }
  std::ofstream(dir / "cases.json") << list.dump();
  const std::string cmd = std::string("\"") + LLMC_BENCH_PYTHON + "\" \"" + LLMC_BENCH_REFERENCE +
                          "\" " + (dir / "cases.json").string() + " " +
                          (dir / "weights.safetensors").string() + " " + std::to_string(repeats) +
                          " " + (dir / "reference.json").string() + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw llmc::Error("reference benchmark failed: " + cmd);
  return nlohmann::json::parse(std::ifstream(dir / "reference.json"));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    llmc::io::TensorMap weights;
    auto cases = make_cases(options, weights);
    for (auto& c : cases) {
      c.llmc_seconds = time_llmc(c, weights.at(c.weight), options.repeats);
      std::fprintf(stderr, "llmc %-44s %8.3f s\n", c.id.c_str(), c.llmc_seconds);
    }
    nlohmann::json reference;
    if (options.reference) reference = run_reference(cases, weights, options.repeats);
    std::printf("%-12s %-11s %-18s %10s %14s %8s\n", "shape", "scheme", "observer", "llmc [s]",
                "llm-compr [s]", "speedup");
    for (const auto& c : cases) {
      const double ref = options.reference ? reference.at(c.id).get<double>() : 0.0;
      std::printf("%-12s %-11s %-18s %10.3f %14.3f %7.2fx\n", c.weight.c_str(), c.scheme.c_str(),
                  c.observer.c_str(), c.llmc_seconds, ref, ref > 0 ? ref / c.llmc_seconds : 0.0);
    }
    std::printf("threads: %d (at::get_num_threads)\n", at::get_num_threads());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "llmc_bench_observers: " << e.what() << "\n";
    return 1;
  }
}
