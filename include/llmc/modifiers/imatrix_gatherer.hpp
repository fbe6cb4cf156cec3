// IMatrixGatherer: collects the importance matrix (Σx² per input channel and the token count)
// of every targeted Linear during its calibration epoch and leaves it on the module for the
// next imatrix_mse observer to adopt (LC §5.8; removed upstream, kept here so the seed recipes
// run). It quantizes nothing; whatever no observer adopted is deleted at finalize.
//
//   recipe:
//     - IMatrixGatherer: {ignore: [lm_head]}
//     - QuantizationModifier: {scheme: W4A16, weight_observer: imatrix_mse}
#pragma once

#include <torch/arg.h>

#include <llmc/core/modifier.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/observers/squared_input_sums.hpp>
#include <llmc/recipe/modifier_spec.hpp>
#include <memory>
#include <string>
#include <vector>

namespace llmc {

class IMatrixMSEObserver;

struct IMatrixGathererOptions {
  TORCH_ARG(std::vector<std::string>, targets) = std::vector<std::string>{"Linear"};
  TORCH_ARG(std::vector<std::string>, ignore) = std::vector<std::string>{"lm_head"};
  // Must name imatrix_mse (any spelling the observer registry accepts).
  TORCH_ARG(std::string, weight_observer) = "imatrix_mse";
};

class IMatrixGatherer : public Modifier {
 public:
  // Throws llmc::Error when weight_observer is not imatrix_mse.
  explicit IMatrixGatherer(IMatrixGathererOptions options = {});
  explicit IMatrixGatherer(const ModifierSpec& spec);

  std::string type() const override { return "IMatrixGatherer"; }
  bool requires_calibration_data() const override { return true; }
  nlohmann::ordered_json args_json() const override;
  const IMatrixGathererOptions& options() const { return options_; }
  const std::vector<nn::NamedLinear>& targeted_modules() const { return modules_; }

 protected:
  // Attaches an imatrix_mse observer (hooked) to every targeted Linear as its weight observer.
  bool on_initialize(State& state) override;
  // Detaches the hooks and moves each observer's sums onto its module; removes the observers.
  // The sums are all-reduced across state.process_group's ranks here, before any weight is
  // observed (upstream only syncs them in the observer, LC §11.9).
  void on_sequential_epoch_end(State& state, const Event& event,
                               const std::vector<nn::NamedModule>& modules) override;
  void on_calibration_end(State& state, const Event& event) override;
  // Deletes importance nobody adopted (and observers, if calibration never ended).
  bool on_finalize(State& state) override;

 private:
  IMatrixGathererOptions options_;
  std::vector<nn::NamedLinear> modules_;
  // One hooked observer per targeted module (same order), held here rather than as the
  // module's weight observer so a QuantizationModifier calibrating in the same epoch keeps its
  // own.
  std::vector<std::shared_ptr<IMatrixMSEObserver>> observers_;
  // Shared by those observers' hooks: q/k/v (gate/up) read one input, reduced once.
  std::shared_ptr<SquaredInputSumsCache> squared_sums_;
};

}  // namespace llmc
