// Observer: watches a weight or activation and turns what it saw into qparams — the C++ twin of
// llm-compressor's Observer (LC reference §5.1). Subclasses implement
// update_statistics_from_observed(); statistics live in a name → tensor map under upstream's
// attribute names ("min_vals", "max_vals", "_imatrix_sum", ...) so the distributed layer can
// all-reduce the accumulators each observer declares.
//
//   auto obs = llmc::load_observer("memoryless_mse", "weight", args);
//   (*obs)(weight);
//   llmc::QParams q = obs->get_qparams();
#pragma once

#include <ATen/ATen.h>

#include <llmc/dist/reduce_op.hpp>
#include <llmc/quant/quantization_args.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace torch::nn {
class Module;
}

namespace llmc {

class FusionGroup;

struct QParams {
  at::Tensor scale;
  at::Tensor zero_point;
  std::optional<at::Tensor> global_scale;
};

class Observer {
 public:
  // `base_name` is one of weight, input, output, q, k, v (anything else throws). Args without a
  // strategy are validated first (upstream only ever sees validated pydantic args).
  // `observer_kwargs` are merged into args.observer_kwargs (upstream mutates the shared args;
  // we keep our own copy).
  Observer(std::string base_name, QuantizationArgs args,
           const nlohmann::json& observer_kwargs = nlohmann::json::object());
  virtual ~Observer();
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  // Registry name of the concrete observer ("memoryless_mse"); used in error messages.
  virtual std::string name() const = 0;

  // Upstream forward(): skip empty tensors; weights already observed are not re-observed;
  // flatten_for_calibration, update statistics, then let fused partners observe.
  Observer& operator()(const at::Tensor& observed);

  // Global scale (TENSOR_GROUP only, from this and fused observers' post-search ranges),
  // calculate_qparams, then delete every statistic, accumulators included (cooperatively when
  // fused). Throws when there
  // are no statistics or they hold NaN (a NaN in the observed values).
  QParams get_qparams();
  std::optional<at::Tensor> get_global_scale();

  bool has_statistics() const;
  // The statistics named by stats_attrs(); throws when missing.
  std::map<std::string, at::Tensor> get_statistics() const;
  // Deletes the whole statistics map (min/max and any accumulator such as the imatrix sums).
  void delete_statistics(bool check_fused = true);

  // Accumulators to all-reduce across ranks before qparams are computed (upstream's
  // _act_sync_dict): name in statistics() → op. Empty for memoryless observers.
  virtual std::vector<std::pair<std::string, ReduceOp>> accumulators() const { return {}; }
  // Mutable access for the distributed layer and for adopting state (e.g. imatrix sums).
  std::map<std::string, at::Tensor>& statistics() { return statistics_; }
  const std::map<std::string, at::Tensor>& statistics() const { return statistics_; }

  // Module lifecycle hooks (imatrix registers its input hook here); no-ops by default.
  virtual void attach(torch::nn::Module& module);
  virtual void detach(torch::nn::Module& module);

  const std::string& base_name() const { return base_name_; }
  const QuantizationArgs& args() const { return args_; }
  bool is_weight_observer() const { return base_name_ == "weight"; }
  // "memoryless_mse observer of weight": the prefix of every error this observer throws.
  std::string describe() const;

  // Fused global-scale groups (LC §5.7): set by FusionGroup::link.
  std::shared_ptr<FusionGroup> fusion_group() const { return fusion_group_; }

 protected:
  // `observed` is flatten_for_calibration's (num_observations, *qparam_shape, group) tensor.
  virtual void update_statistics_from_observed(const at::Tensor& observed) = 0;
  // Attribute names that must all be present for has_statistics().
  virtual std::vector<std::string> stats_attrs() const { return {"min_vals", "max_vals"}; }

  // min_vals / max_vals, or undefined tensors when not observed yet.
  at::Tensor stat(const std::string& attr) const;
  void set_min_max(at::Tensor min_vals, at::Tensor max_vals);
  // Throws when min_vals / max_vals hold NaN or inf.
  void require_finite_statistics() const;
  // The EMA update shared by minmax and mse (upstream helpers.lerp, written out as
  // old * (1 - c) + new * c because torch.lerp rounds differently): the first observation, or
  // c == 1, just sets the values.
  void set_min_max_moving_average(at::Tensor min_vals, at::Tensor max_vals,
                                  double averaging_constant);

  std::string base_name_;
  QuantizationArgs args_;
  std::map<std::string, at::Tensor> statistics_;
  // Shape of the tensor passed to operator() before flattening (a weight's (rows, cols)).
  std::vector<int64_t> observed_shape_;

 private:
  friend class FusionGroup;
  void require_statistics(const char* action) const;
  void delete_own_statistics();
  std::shared_ptr<FusionGroup> fusion_group_;
};

// Creates an observer by registry name (case/separator-insensitive) with the given args; unknown
// names throw llmc::Error listing the known ones. Defined in observers/registry.cpp.
std::unique_ptr<Observer> load_observer(
    const std::string& name, const std::string& base_name, const QuantizationArgs& args,
    const nlohmann::json& observer_kwargs = nlohmann::json::object());

}  // namespace llmc
