// llmc_bench_grid_search: the MSE / imatrix grid search of llmc's fused kernel, of llmc's
// reference tensor loop, and of llm-compressor's own observers (memoryless_mse, imatrix_mse) on
// the same bf16 weights, in one run. llmc's columns time grid_search_mse on the flattened
// weight (the observer's hot loop); llm-compressor's time observer(weight) + get_qparams().
// With --device cuda the same cases run on the GPU (tensors already there, synchronised before
// and after), and the table adds the roofline: weight bytes / memory bandwidth, and the
// element work (elements × candidates × ops per element, an estimate) at the fp32 issue rate.
//
//   build/bench/llmc_bench_grid_search [--quick] [--shapes 4096x4096,...] [--repeats N]
//                                      [--no-reference] [--no-llmc-reference]
//                                      [--device cpu|cuda] [--python PATH]
//                                      [--reference-script PATH]
//                                      [--bandwidth-gbs X] [--fp32-tops X] [--check]
#include <ATen/Parallel.h>
#include <llmc/llmc.hpp>
#include <torch/cuda.h>

#include "device_roofline.hpp"
#include "host_cpu.hpp"

#include <algorithm>
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

// The cases' schemes and observers: the defaults, and what --schemes / --observers accept
// (on request: FP8, per-tensor FP8 weights, a single scale group; MXFP4A16 and MXFP8A16, float
// groups of 32 with E8M0 scales).
const std::vector<std::string> kSchemes = {"W4A16", "W4A16_ASYM", "NVFP4A16"};
const std::vector<std::string> kKnownSchemes = {"W4A16",    "W4A16_ASYM", "NVFP4A16",
                                                "FP8",      "MXFP4A16",   "MXFP8A16"};
const std::vector<std::string> kObservers = {"memoryless_mse", "imatrix_mse"};

struct Options {
  std::vector<std::vector<int64_t>> shapes = {
      {4096, 4096}, {1024, 4096}, {14336, 4096}, {4096, 14336}};
  int repeats = 1;
  bool reference = true;       // llm-compressor
  bool llmc_reference = true;  // llmc's tensor loop
  std::string device = "cpu";  // where the searches run: cpu or cuda
  std::string python = LLMC_BENCH_PYTHON;  // runs llm-compressor
  std::string reference_script = LLMC_BENCH_REFERENCE;
  double bandwidth_gbs = 0.0;  // roofline overrides (0: from the device)
  double fp32_tops = 0.0;
  bool check = false;  // exit 3 when a fused range differs from llmc's reference
  std::vector<std::string> schemes = kSchemes;
  std::vector<std::string> observers = kObservers;
  double row_spread = 0.0;  // binades over which the rows' scales spread
};

struct BenchCase {
  std::string id, shape, scheme, observer;
  llmc::QuantizationArgs args;
  double fused_s = 0.0, reference_s = 0.0, llm_compressor_s = 0.0;
  double memory_s = 0.0, arithmetic_s = 0.0;  // roofline terms (GPU only)
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
               "  --repeats N           best of N rounds over all cases (default 1)\n"
               "  --no-reference        skip llm-compressor\n"
               "  --no-llmc-reference   skip llmc's reference tensor loop\n"
               "  --device cpu|cuda     where the searches run (default cpu); cuda adds the\n"
               "                        roofline columns\n"
               "  --python PATH         the Python that runs llm-compressor (default: the\n"
               "                        build's LLMC_PYTHON)\n"
               "  --reference-script P  bench/reference_grid_search.py elsewhere than in the\n"
               "                        build's source tree\n"
               "  --bandwidth-gbs X     roofline memory bandwidth in GB/s (default: the device's)\n"
               "  --fp32-tops X         roofline fp32 issue rate in 10^12 ops/s (default: the\n"
               "                        device's)\n"
               "  --check               exit with status 3 if any fused range differs from\n"
               "                        llmc's reference\n"
               "  --schemes S,...       of W4A16, W4A16_ASYM, NVFP4A16 (default: those three)\n"
               "                        and FP8 (per-tensor: one scale group; memoryless_mse\n"
               "                        only, as upstream's imatrix_mse has no TENSOR search),\n"
               "                        MXFP4A16 and MXFP8A16 (groups of 32, E8M0 scales)\n"
               "  --observers O,...     of memoryless_mse, imatrix_mse (default: both)\n"
               "  --row-spread B        scale each row by 2^u, u uniform in [-B/2, B/2]\n"
               "                        (default 0: every row N(0, 0.02^2), as before);\n"
               "                        real layers' rows differ in scale, which gives a\n"
               "                        search more distinct values and scales\n";
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
    } else if (arg == "--row-spread" && i + 1 < argc) {
      o.row_spread = std::atof(argv[++i]);
      if (!(o.row_spread >= 0.0 && o.row_spread <= 64.0)) {
        throw llmc::Error("--row-spread: expected a number of binades in [0, 64]");
      }
    } else if (arg == "--quick") {
      o.shapes = {{512, 1024}, {256, 2048}};
    } else if (arg == "--repeats" && i + 1 < argc) {
      o.repeats = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--no-reference") {
      o.reference = false;
    } else if (arg == "--no-llmc-reference") {
      o.llmc_reference = false;
    } else if (arg == "--device" && i + 1 < argc) {
      o.device = argv[++i];
      if (o.device != "cpu" && o.device != "cuda") {
        throw llmc::Error("--device: expected cpu or cuda, got '" + o.device + "'");
      }
    } else if ((arg == "--schemes" || arg == "--observers") && i + 1 < argc) {
      const bool schemes = arg == "--schemes";
      auto& list = schemes ? o.schemes : o.observers;
      const std::vector<std::string>& known = schemes ? kKnownSchemes : kObservers;
      list.clear();
      std::stringstream items(argv[++i]);
      for (std::string item; std::getline(items, item, ',');) {
        if (std::find(known.begin(), known.end(), item) == known.end()) {
          throw llmc::Error(arg + ": unknown '" + item + "'");
        }
        list.push_back(item);
      }
    } else if (arg == "--check") {
      o.check = true;
    } else if (arg == "--python" && i + 1 < argc) {
      o.python = argv[++i];
    } else if (arg == "--reference-script" && i + 1 < argc) {
      o.reference_script = argv[++i];
    } else if (arg == "--bandwidth-gbs" && i + 1 < argc) {
      o.bandwidth_gbs = std::atof(argv[++i]);
    } else if (arg == "--fp32-tops" && i + 1 < argc) {
      o.fp32_tops = std::atof(argv[++i]);
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
    at::Tensor weight = at::randn(shape) * 0.02;
    if (o.row_spread > 0.0) {
      weight = weight * at::pow(2.0, (at::rand({shape[0], 1}) - 0.5) * o.row_spread);
    }
    tensors[name] = weight.to(at::kBFloat16);
    tensors[name + "/importance"] = at::rand({shape[1]}).pow(4) + 1e-3;
    for (const std::string& scheme : o.schemes) {
      for (const std::string& observer : o.observers) {
        // llm-compressor's imatrix_mse falls back to uniform MSE for TENSOR strategy (LC §5.4),
        // so there is no importance-weighted search of its own to time against.
        if (scheme == "FP8" && observer == "imatrix_mse") continue;
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

// Waits for the device's queued work, so that wall-clock times cover it.
void synchronize(const std::string& device) {
  if (device == "cuda") torch::cuda::synchronize();
}

// Best time over `repeats`; `result` receives the (min, max) of the last run. `tensors` are on
// `device`.
double time_search(const BenchCase& c, const llmc::io::TensorMap& tensors,
                   llmc::GridSearchBackend backend, int repeats, const std::string& device,
                   std::pair<at::Tensor, at::Tensor>& result) {
  const at::Tensor& weight = tensors.at(c.shape);
  const bool imatrix = c.observer == "imatrix_mse";
  const auto options = (imatrix ? llmc::GridSearchOptions::imatrix()
                                : llmc::GridSearchOptions::mse())
                           .backend(backend);
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    synchronize(device);
    const auto start = std::chrono::steady_clock::now();
    const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", c.args);
    std::optional<at::Tensor> importance;
    if (imatrix) importance = prepared_importance(tensors.at(c.shape + "/importance"), weight, c.args);
    result = llmc::grid_search_mse(observed, c.args, options, importance);
    synchronize(device);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// Estimated fp32 lane operations per element and candidate in the CUDA kernel's element_error
// (grid_search_element.hpp), for the roofline's arithmetic term only: IEEE division ~10; each
// rounding to bf16 2 (a convert and back; 6 when the error is in bf16, 4 when in fp32);
// add/clamp/rint/sub/mul/sub/abs ~7; the error's pow: powf for norm 2.4 ~24, two multiplies
// for imatrix's norm 3; the importance product 1; the sum 1; fp4's bucket cast ~10 more.
double estimated_ops_per_element(const BenchCase& c) {
  const bool imatrix = c.observer == "imatrix_mse";
  double ops = 10 + 2 * (imatrix ? 4 : 6) + 7 + (imatrix ? 2 + 1 : 24) + 1;
  if (c.scheme.rfind("NVFP4", 0) == 0 || c.scheme.rfind("MXFP4", 0) == 0) ops += 10;
  return ops;
}

// The case's roofline terms on `roofline`'s device: the weight read once from memory, and every
// candidate's element work at the fp32 issue rate.
void set_roofline(BenchCase& c, const llmc::io::TensorMap& tensors,
                  const llmc::bench::DeviceRoofline& roofline) {
  const at::Tensor& weight = tensors.at(c.shape);
  const auto options = c.observer == "imatrix_mse" ? llmc::GridSearchOptions::imatrix()
                                                   : llmc::GridSearchOptions::mse();
  const double bytes = static_cast<double>(weight.numel()) * weight.element_size();
  const double evaluations = static_cast<double>(weight.numel()) * options.num_candidates();
  c.memory_s = bytes / roofline.bandwidth_bps;
  c.arithmetic_s = evaluations * estimated_ops_per_element(c) / roofline.fp32_ops_per_s;
}

// llm-compressor's best time per case id, or an empty object (with the reason on stderr) when
// its Python cannot run it (e.g. a device machine without the packages).
nlohmann::json run_llm_compressor(const std::vector<BenchCase>& cases,
                                  const llmc::io::TensorMap& tensors, const Options& o) {
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
  const auto log = dir / "reference.log";
  const std::string cmd = "\"" + o.python + "\" \"" + o.reference_script + "\" " +
                          (dir / "cases.json").string() + " " +
                          (dir / "tensors.safetensors").string() + " " +
                          std::to_string(o.repeats) + " " + (dir / "reference.json").string() +
                          " " + o.device + " >\"" + log.string() + "\" 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > 2000) text = "..." + text.substr(text.size() - 2000);
    std::fprintf(stderr, "llm-compressor benchmark failed, its columns are n/a: %s\n%s\n",
                 cmd.c_str(), text.c_str());
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(std::ifstream(dir / "reference.json"));
}

std::string seconds(double s) {
  char text[32];
  if (s > 0) {
    std::snprintf(text, sizeof text, s >= 1e-3 ? "%.4f" : "%.3g", s);
  } else {
    std::snprintf(text, sizeof text, "n/a");
  }
  return text;
}

std::string ratio(double numerator, double denominator) {
  char text[32];
  if (numerator > 0 && denominator > 0) {
    std::snprintf(text, sizeof text, "%.1fx", numerator / denominator);
  } else {
    std::snprintf(text, sizeof text, "n/a");
  }
  return text;
}

void print_table(const std::vector<BenchCase>& cases,
                 const llmc::bench::DeviceRoofline* roofline) {
  std::printf("%-11s %-11s %-15s %9s %9s %12s %9s %9s %9s", "shape", "scheme", "observer",
              "fused[s]", "ref[s]", "llm-comp[s]", "vs LC", "vs ref", "differ");
  if (roofline != nullptr) std::printf(" %9s %9s %9s", "mem[s]", "arith[s]", "/roof");
  std::printf("\n");
  for (const auto& c : cases) {
    std::printf("%-11s %-11s %-15s %9s %9s %12s %9s %9s %9lld", c.shape.c_str(), c.scheme.c_str(),
                c.observer.c_str(), seconds(c.fused_s).c_str(), seconds(c.reference_s).c_str(),
                seconds(c.llm_compressor_s).c_str(), ratio(c.llm_compressor_s, c.fused_s).c_str(),
                ratio(c.reference_s, c.fused_s).c_str(),
                static_cast<long long>(c.differing_groups));
    if (roofline != nullptr) {
      std::printf(" %9s %9s %9s", seconds(c.memory_s).c_str(), seconds(c.arithmetic_s).c_str(),
                  ratio(c.fused_s, std::max(c.memory_s, c.arithmetic_s)).c_str());
    }
    std::printf("\n");
  }
  std::printf("differ: scale groups whose range differs between fused and reference (-1: not run)\n");
  if (roofline != nullptr) {
    std::printf("device: %s (%s): %.0f GB/s, %.1f x 10^12 fp32 ops/s\n", roofline->name.c_str(),
                roofline->source.c_str(), roofline->bandwidth_bps / 1e9,
                roofline->fp32_ops_per_s / 1e12);
    std::printf("mem: weight bytes / bandwidth; arith: elements x candidates x estimated ops per "
                "element / fp32 rate; /roof: fused time / max(mem, arith)\n");
  } else {
    std::printf("threads: %d (at::get_num_threads), CPU capability %s\n", at::get_num_threads(),
                at::get_cpu_capability().c_str());
  }
  std::printf("cpu: %s\n", llmc::bench::describe_host_cpu().c_str());
}

// The roofline of --device cuda: the device's, with the command line's overrides.
llmc::bench::DeviceRoofline device_roofline(const Options& o) {
  llmc::bench::DeviceRoofline r;
  if (o.bandwidth_gbs <= 0 || o.fp32_tops <= 0) r = llmc::bench::query_device_roofline();
  if (o.bandwidth_gbs > 0) r.bandwidth_bps = o.bandwidth_gbs * 1e9;
  if (o.fp32_tops > 0) r.fp32_ops_per_s = o.fp32_tops * 1e12;
  if (o.bandwidth_gbs > 0 || o.fp32_tops > 0) r.source += r.source.empty() ? "command line" : ", command line";
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    if (options.device == "cuda" && !torch::cuda::is_available()) {
      throw llmc::Error("--device cuda: no CUDA device is available");
    }
    llmc::io::TensorMap tensors;
    auto cases = make_cases(options, tensors);
    // The searches' inputs on their device (llm-compressor loads its own copy from the file).
    llmc::io::TensorMap on_device;
    for (const auto& [name, tensor] : tensors) on_device[name] = tensor.to(at::Device(options.device));
    std::optional<llmc::bench::DeviceRoofline> roofline;
    if (options.device == "cuda") roofline = device_roofline(options);
    // One untimed search first, so that the first case does not also pay for starting ATen's
    // thread pool and faulting in the allocator's pages (the llm-compressor script does the same).
    if (!cases.empty()) {
      std::pair<at::Tensor, at::Tensor> warm_up;
      time_search(cases.front(), on_device, llmc::GridSearchBackend::Fused, 1, options.device,
                  warm_up);
    }
    // Best of `repeats` rounds over every case, not `repeats` runs of a case back to back: this
    // shared machine has slow spells that last minutes (one whole table run here had every W4
    // memoryless_mse case at half speed), which then cost a round, not all of a case's runs.
    for (int round = 0; round < options.repeats; ++round) {
      for (size_t i = 0; i < cases.size(); ++i) {
        auto& c = cases[i];
        std::pair<at::Tensor, at::Tensor> fused, reference;
        const double fused_s =
            time_search(c, on_device, llmc::GridSearchBackend::Fused, 1, options.device, fused);
        c.fused_s = round == 0 ? fused_s : std::min(c.fused_s, fused_s);
        if (options.llmc_reference) {
          const double reference_s = time_search(c, on_device, llmc::GridSearchBackend::Reference,
                                                 1, options.device, reference);
          c.reference_s = round == 0 ? reference_s : std::min(c.reference_s, reference_s);
          c.differing_groups = std::max(c.differing_groups,
                                        fused.first.ne(reference.first)
                                            .logical_or(fused.second.ne(reference.second))
                                            .sum()
                                            .item<int64_t>());
        }
        std::fprintf(stderr, "[round %d/%d, %zu/%zu] %-44s fused %8.4f s  reference %8.4f s\n",
                     round + 1, options.repeats, i + 1, cases.size(), c.id.c_str(), c.fused_s,
                     c.reference_s);
      }
    }
    if (roofline) {
      for (auto& c : cases) set_roofline(c, tensors, *roofline);
    }
    if (options.reference) {
      std::fprintf(stderr, "running llm-compressor on the same tensors...\n");
      const nlohmann::json times = run_llm_compressor(cases, tensors, options);
      for (auto& c : cases) {
        if (times.contains(c.id)) c.llm_compressor_s = times.at(c.id).get<double>();
      }
    }
    print_table(cases, roofline ? &*roofline : nullptr);
    if (options.row_spread > 0.0) {
      std::printf("weights: rows N(0, 0.02^2) scaled by 2^u, u uniform in [%g, %g]\n",
                  -options.row_spread / 2, options.row_spread / 2);
    }
    if (options.check) {
      for (const auto& c : cases) {
        if (c.differing_groups > 0) {
          std::fprintf(stderr, "--check: %s: %lld groups differ from the reference\n",
                       c.id.c_str(), static_cast<long long>(c.differing_groups));
          return 3;
        }
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "llmc_bench_grid_search: " << e.what() << "\n";
    return 1;
  }
}
