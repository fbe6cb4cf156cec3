// QuantizationModifier: post-training quantization by observers (LC §3) — attaches schemes
// and empty qparams at initialize, observers and activation hooks at calibration start, writes
// qparams at each sequential epoch end (activation statistics first, then weights), freezes at
// calibration end. Its recipe fields are llm-compressor's QuantizationMixin's.
//
//   auto quant = std::make_shared<llmc::QuantizationModifier>(
//       llmc::QuantizationModifierOptions().scheme("W4A16").ignore({"lm_head"})
//           .weight_observer("imatrix_mse"));
//
// or from a recipe:
//   QuantizationModifier:
//     config_groups: {group_0: {targets: [Linear], weights: {num_bits: 4, observer: imatrix_mse}}}
#pragma once

#include <torch/arg.h>

#include <llmc/core/modifier.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/observers/fusion.hpp>
#include <llmc/observers/squared_input_sums.hpp>
#include <llmc/quant/quantization_config.hpp>
#include <llmc/recipe/modifier_spec.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llmc {

// `scheme: {W4A16: [re:.*mlp.*], W8A16: [re:.*attn.*]}`: preset name → its targets, in order.
using PresetTargets = std::vector<std::pair<std::string, std::vector<std::string>>>;
// `observer: {weights: imatrix_mse, input: minmax}`.
using ObserverOverrides = std::map<std::string, std::string>;

struct QuantizationModifierOptions {
  // Source of truth for targets when set (upstream `config_groups`).
  TORCH_ARG(std::optional<ConfigGroups>, config_groups) = std::nullopt;
  // Targets of `scheme` (or of the empty default scheme).
  TORCH_ARG(std::vector<std::string>, targets) = std::vector<std::string>{"Linear"};
  TORCH_ARG(std::vector<std::string>, ignore);
  // A preset name ("W4A16", case-insensitive) applied to `targets` ...
  TORCH_ARG(std::optional<std::string>, scheme) = std::nullopt;
  // ... or presets with their own targets (upstream's dict form of `scheme`).
  TORCH_ARG(std::optional<PresetTargets>, scheme_targets) = std::nullopt;
  // Accepted for recipe compatibility and rejected at construction: llmc's models have no
  // attention modules whose k/v could be observed.
  TORCH_ARG(std::optional<QuantizationArgs>, kv_cache_scheme) = std::nullopt;
  // Observer overrides of the matching args (`observer` keys: weights, input, output); setting
  // both forms is an error, as upstream.
  TORCH_ARG(std::optional<std::string>, weight_observer) = std::nullopt;
  TORCH_ARG(std::optional<std::string>, input_observer) = std::nullopt;
  TORCH_ARG(std::optional<std::string>, output_observer) = std::nullopt;
  TORCH_ARG(std::optional<ObserverOverrides>, observer) = std::nullopt;
  TORCH_ARG(bool, bypass_divisibility_checks) = false;

 public:
  // Reads a recipe entry's kwargs; unknown keys, wrong types and bad values fail through
  // spec.fail (file:line:col, the modifier, the key, what is allowed). `extra_allowed` lets
  // subclasses (GPTQModifier) share this parser. When `common` is given, Modifier's common
  // fields (index, start, requires_calibration_data, ...) are copied into it.
  static QuantizationModifierOptions from_spec(const ModifierSpec& spec,
                                               const std::vector<std::string>& extra_allowed = {},
                                               Modifier* common = nullptr);
  // upstream has_config(): anything beyond the defaults was set.
  bool has_config() const;
  // The recipe kwargs these options came from (unset optionals left out), upstream's order.
  void append_json(nlohmann::ordered_json& args) const;
};

// upstream resolve_quantization_config: scheme (presets) or config_groups → named groups with
// observer overrides and default observers applied (weights memoryless_minmax, activations
// minmax, none for dynamic), ignore copied, status Initialized. Every scheme validated.
QuantizationConfig resolve_quantization_config(const QuantizationModifierOptions& options);

class QuantizationModifier : public Modifier {
 public:
  // Resolves the config at once (bad schemes, presets or observer overrides throw here, as
  // upstream's validators do) and sets requires_calibration_data from it.
  explicit QuantizationModifier(QuantizationModifierOptions options = {});
  // From a recipe entry: errors carry the recipe location.
  explicit QuantizationModifier(const ModifierSpec& spec);

  std::string type() const override { return "QuantizationModifier"; }
  bool requires_calibration_data() const override;
  nlohmann::ordered_json args_json() const override;

  const QuantizationModifierOptions& options() const { return options_; }
  const QuantizationConfig& resolved_config() const { return resolved_config_; }
  // The Linear layers this modifier quantizes (after initialize), in named_modules() order.
  const std::vector<nn::NamedLinear>& targeted_modules() const { return modules_; }

 protected:
  bool on_initialize(State& state) override;
  void on_calibration_start(State& state, const Event& event) override;
  void on_sequential_epoch_end(State& state, const Event& event,
                               const std::vector<nn::NamedModule>& modules) override;
  void on_calibration_end(State& state, const Event& event) override;
  bool on_finalize(State& state) override;

  // Steps of the flow, for GPTQModifier to reuse.
  void initialize_quantization(torch::nn::Module& model);
  void start_calibration();
  void end_calibration(torch::nn::Module& model);
  // The targeted modules among `modules` that have a scheme, in the given order.
  std::vector<nn::NamedLinear> calibrated_among(const std::vector<nn::NamedModule>& modules) const;
  // All-reduces the accumulators of the modules' observers across state.process_group's ranks
  // (nothing for a world of one); before update_module_qparams, so every rank observes weights
  // with the same statistics.
  void sync_statistics(State& state, const std::vector<nn::NamedLinear>& modules);
  // Input/output qparams from their statistics, then weights observed and their qparams set.
  void update_module_qparams(const std::vector<nn::NamedLinear>& modules);

  QuantizationModifierOptions options_;
  QuantizationConfig resolved_config_;
  std::vector<nn::NamedLinear> modules_;
  std::vector<std::shared_ptr<FusionGroup>> fusion_groups_;
  // Shared by the imatrix_mse weight observers' hooks: one Σx² per distinct input.
  std::shared_ptr<SquaredInputSumsCache> squared_sums_;
};

}  // namespace llmc
