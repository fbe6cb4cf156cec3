#include "quantize_command.hpp"

#include <llmc/core/module_matching.hpp>
#include <llmc/error.hpp>
#include <llmc/io/atomic_write.hpp>
#include <llmc/io/checkpoint.hpp>
#include <llmc/io/compressors.hpp>
#include <llmc/io/save_compressed.hpp>
#include <llmc/modifiers/group_size_validation.hpp>
#include <llmc/observers/fusion.hpp>
#include <llmc/observers/observer.hpp>
#include <llmc/observers/observer_selection.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/presets.hpp>
#include <llmc/quant/quantization_config.hpp>
#include <llmc/version.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "cli_args.hpp"
#include "synthetic_model.hpp"

namespace llmc::driver {
namespace {

struct LinearModule {
  std::string name;  // module name: the weight is "<name>.weight"
  at::Tensor weight;
  std::unique_ptr<Observer> observer;
  QParams qparams;
  std::string format;
  double relative_error = 0.0;
};

// Safetensors carry no classes: a 2-D "<name>.weight" is taken as a Linear unless the name says
// embedding or norm (the Llama-family naming; models/ will know real classes).
bool looks_like_linear(const std::string& module_name, const at::Tensor& weight) {
  if (weight.dim() != 2) return false;
  const auto last = module_name.substr(module_name.rfind('.') + 1);
  return last.find("embed") == std::string::npos && last.find("norm") == std::string::npos &&
         last != "wte" && last != "wpe";
}

QuantizationScheme build_scheme(const CliArgs& cli, const std::vector<std::string>& targets) {
  QuantizationScheme scheme = preset_name_to_scheme(cli.get("scheme"), targets);
  if (!scheme.weights()) {
    throw Error("--scheme " + cli.get("scheme") + " quantizes no weights; nothing to do");
  }
  QuantizationArgs weights = *scheme.weights();
  if (cli.is_set("observer")) weights.observer(cli.get("observer"));
  if (cli.is_set("observer-kwargs")) {
    nlohmann::json kwargs;
    try {
      kwargs = nlohmann::json::parse(cli.get("observer-kwargs"));
    } catch (const std::exception& e) {
      throw Error(std::string("--observer-kwargs: not valid JSON: ") + e.what());
    }
    if (!kwargs.is_object()) throw Error("--observer-kwargs: expected a JSON object");
    weights.observer_kwargs(kwargs);
  }
  scheme.weights(weights.validated());
  return scheme.validated();
}

std::vector<LinearModule> select_modules(const io::HFModel& model,
                                         const std::vector<std::string>& targets,
                                         const std::vector<std::string>& ignore,
                                         std::vector<std::string>& ignored) {
  std::vector<LinearModule> modules;
  const std::string suffix = ".weight";
  for (const auto& [name, tensor] : model.tensors) {  // std::map: deterministic order
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string module = name.substr(0, name.size() - suffix.size());
    if (!looks_like_linear(module, tensor)) continue;
    if (matches_any(module, "Linear", targets) && !matches_any(module, "Linear", ignore)) {
      modules.push_back({module, tensor, nullptr, {}, "", 0.0});
    } else {
      ignored.push_back(module);
    }
  }
  return modules;
}

// Links the TENSOR_GROUP observers of sibling q/k/v and gate/up projections so they share one
// global scale, as llm-compressor's fuse_weight_observers does (LC §5.7).
void fuse_observers(std::vector<LinearModule>& modules) {
  std::vector<std::string> names;
  for (const auto& m : modules) names.push_back(m.name);
  for (const auto& siblings : find_fused_siblings(names)) {
    std::vector<FusionGroup::Member> present;
    for (const auto& [layer, index] : siblings.layers) {
      LinearModule* m = &modules[index];
      present.push_back({layer, m->observer.get(), [m] { (*m->observer)(m->weight); }});
    }
    fuse_weight_observers(present);
  }
}

// Upstream's group-size divisibility check (LC §3.4), over the selected weights.
void validate_group_divisibility(const std::vector<LinearModule>& modules,
                                 const QuantizationArgs& args) {
  std::vector<GroupSizeOffender> offenders;
  for (const auto& m : modules) {
    if (auto offender = check_group_size(m.name, m.weight.size(1), args)) {
      offenders.push_back(*offender);
    }
  }
  if (!offenders.empty()) {
    throw Error(group_size_error_message(offenders,
                                         "add these modules to --ignore or choose another --scheme"));
  }
}

void print_summary(const std::vector<LinearModule>& modules, double seconds) {
  std::fprintf(stderr, "\n%-44s %-14s %-22s %-14s %s\n", "module", "shape", "format", "scale",
               "rel.err");
  for (const auto& m : modules) {
    const auto shape = std::to_string(m.weight.size(0)) + "x" + std::to_string(m.weight.size(1));
    std::string scale;
    for (auto d : m.qparams.scale.sizes()) scale += (scale.empty() ? "" : "x") + std::to_string(d);
    std::fprintf(stderr, "%-44s %-14s %-22s %-14s %.5f\n", m.name.c_str(), shape.c_str(),
                 m.format.c_str(), scale.c_str(), m.relative_error);
  }
  std::fprintf(stderr, "%zu modules quantized in %.2f s\n", modules.size(), seconds);
}

// Observes one module's weight, computes its qparams and replaces "<name>.weight" in `output`
// by the compressed tensors of `format`.
void quantize_module(LinearModule& m, const QuantizationScheme& scheme, const std::string& format,
                     io::TensorMap& output) {
  const QuantizationArgs& args = *scheme.weights();
  try {
    (*m.observer)(m.weight);
    m.qparams = m.observer->get_qparams();
  } catch (const std::exception& e) {
    rethrow_with_context(m.name, e);
  }
  // Upstream copies qparams into parameters created in the weight dtype (LC §6.6).
  const at::Tensor scale = m.qparams.scale.to(m.weight.scalar_type());
  io::TensorMap state{{"weight", m.weight}, {"weight_scale", scale}};
  if (m.qparams.zero_point.defined()) state["weight_zero_point"] = m.qparams.zero_point;
  if (m.qparams.global_scale) state["weight_global_scale"] = *m.qparams.global_scale;
  const at::Tensor qdq =
      fake_quantize(m.weight, scale, m.qparams.zero_point, args, m.qparams.global_scale);
  const auto w = m.weight.to(at::kFloat);
  m.relative_error = ((qdq.to(at::kFloat) - w).norm() / w.norm().clamp_min(1e-30)).item<double>();
  m.format = format;
  output.erase(m.name + ".weight");
  for (auto& [key, tensor] : io::compress_state_dict(state, scheme, format)) {
    output[m.name + "." + key] = tensor;
  }
}

void write_report(const CliArgs& cli, const std::vector<LinearModule>& modules,
                  const std::string& format, double seconds) {
  nlohmann::json report = {{"scheme", cli.get("scheme")},
                           {"observer", *resolve_observer_name("weight", modules.front().observer->args())},
                           {"format", format},
                           {"seconds", seconds},
                           {"modules", nlohmann::json::array()}};
  for (const auto& m : modules) {
    report["modules"].push_back({{"name", m.name},
                                 {"shape", m.weight.sizes().vec()},
                                 {"relative_error", m.relative_error}});
  }
  io::write_file_atomically(cli.get("report"),
                            [&](std::ostream& out) { out << report.dump(2) << "\n"; });
}

}  // namespace

int run_quantize(const std::vector<std::string>& argv) {
  CliArgs cli("quantize",
              "Quantize the Linear weights of a Hugging Face model (or of the built-in synthetic\n"
              "model) with a preset scheme and a weight observer, and save a compressed-tensors\n"
              "checkpoint that vLLM loads.");
  cli.option("model", "", "HF model directory or .safetensors file (none: built-in synthetic model)")
      .option("scheme", "W4A16", "preset scheme (W4A16, W8A16, W4A16_ASYM, W8A8, FP8, NVFP4A16, ...)")
      .option("observer", "", "weight observer overriding the preset's (e.g. memoryless_mse)")
      .option("observer-kwargs", "", "JSON object of observer kwargs, e.g. '{\"maxshrink\":0.3}'")
      .option("targets", "Linear", "comma-separated targets: class name, module name or re:regex")
      .option("ignore", "lm_head", "comma-separated modules to leave unquantized")
      .option("output", "llmc-out", "output checkpoint directory")
      .option("report", "", "write a JSON report to this file")
      .option("seed", "0", "seed of the built-in synthetic model");
  if (!cli.parse(argv)) return 0;

  const auto start = std::chrono::steady_clock::now();
  const auto targets = split_list(cli.get("targets"));
  const auto ignore = split_list(cli.get("ignore"));
  const QuantizationScheme scheme = build_scheme(cli, targets);
  const QuantizationArgs& args = *scheme.weights();

  io::HFModel model;
  if (cli.is_set("model")) {
    model = io::load_hf_model(cli.get("model"));
  } else {
    SyntheticModelOptions options;
    options.seed = std::stoull(cli.get("seed"));
    model = make_synthetic_model(options);
    std::cerr << "llmc quantize: no --model given, using the built-in synthetic Llama-shaped model\n";
  }
  std::vector<std::string> ignored;
  auto modules = select_modules(model, targets, ignore, ignored);
  if (modules.empty()) throw Error("no Linear module matches --targets " + cli.get("targets"));
  validate_group_divisibility(modules, args);
  const std::string format = io::infer_module_format(scheme);

  for (auto& m : modules) {
    m.observer = initialize_observer("weight", args);
    if (!m.observer) throw Error("--scheme " + cli.get("scheme") + ": dynamic weights have nothing to observe");
  }
  fuse_observers(modules);

  io::TensorMap output = model.tensors;
  for (size_t i = 0; i < modules.size(); ++i) {
    std::fprintf(stderr, "[%zu/%zu] %s\n", i + 1, modules.size(), modules[i].name.c_str());
    quantize_module(modules[i], scheme, format, output);
  }

  nlohmann::json config = model.config;
  QuantizationScheme stored = scheme;
  stored.format(format);
  config["quantization_config"] =
      io::compressed_quantization_config({{"group_0", stored}}, format, ignored);
  io::save_checkpoint(cli.get("output"), output, config);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  print_summary(modules, seconds);
  std::cerr << "saved " << cli.get("output") << " (format " << format << ")\n";

  if (cli.is_set("report")) write_report(cli, modules, format, seconds);
  return 0;
}

}  // namespace llmc::driver
