// imatrix_mse: the MSE grid search weighted by each input channel's importance E[x²] — the C++
// twin of llm-compressor's IMatrixMSEObserver (LC §5.4), plus its nvfp4_expanded_imatrix
// variant. Importance comes from a forward-pre hook this observer registers on its Linear in
// attach(), or from the sums an IMatrixGatherer left on the module (adopted, no hook).
//
//   auto obs = llmc::load_observer("imatrix_mse", "weight", args);
//   obs->attach(*linear);              // hook: Σx² per input column and the token count
//   model->forward(batch);             // ... calibration batches ...
//   obs->detach(*linear);
//   (*obs)(linear->weight);            // importance-weighted grid search
//   llmc::QParams q = obs->get_qparams();
#pragma once

#include <ATen/ATen.h>
#include <torch/arg.h>

#include <llmc/nn/hooks.hpp>
#include <llmc/observers/grid_search.hpp>
#include <llmc/observers/observer.hpp>
#include <llmc/observers/squared_input_sums.hpp>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace llmc {

namespace nn {
class LinearImpl;
}

// Names of the accumulators, as upstream's attributes (also the keys a gatherer leaves in
// LinearImpl::attributes for the next observer to adopt).
inline constexpr const char* kIMatrixSum = "_imatrix_sum";
inline constexpr const char* kIMatrixCount = "_imatrix_count";

struct IMatrixMSEOptions {
  TORCH_ARG(double, maxshrink) = 0.95;  // [0, 1]
  TORCH_ARG(int64_t, patience) = 5;     // >= 0; 0 never stops early
  TORCH_ARG(double, grid) = 20.0;       // > 0
  TORCH_ARG(double, norm) = 3.0;        // finite, > 0
  // Invalid or missing importance: true throws, false falls back to uniform MSE (and says so
  // through IMatrixMSEObserver::fallback_reason()).
  TORCH_ARG(bool, strict) = false;
  TORCH_ARG(double, expand) = 1.0;  // the search starts at expand × the observed range

 public:
  // Reads observer_kwargs over `defaults`; unknown keys, wrong types and out-of-range values
  // throw llmc::Error naming the kwarg (upstream's messages: "norm must be a finite positive
  // number", "grid must be > 0", "patience must be >= 0", "maxshrink must be in [0, 1]").
  static IMatrixMSEOptions from_kwargs(const nlohmann::json& kwargs, const std::string& observer,
                                       const IMatrixMSEOptions& defaults);
  // imatrix's loop: S+1 candidates, fp32 error, patience 0 = never stop.
  GridSearchOptions grid_search() const;
  bool operator==(const IMatrixMSEOptions& other) const = default;
};

std::ostream& operator<<(std::ostream& os, const IMatrixMSEOptions& options);

// Mean-normalised importance broadcast to `observed`'s flattened weight layout, the weights of
// the grid-search error: element (r, c) of the weight gets importance[c] / (mean + fp32 tiny).
// CHANNEL, GROUP and TENSOR_GROUP as upstream; BLOCK too (each block element weighted by its
// column, zero on the padding) where upstream falls back to uniform MSE. `importance` is 1-D of
// the weight's column count; `weight_shape` the unflattened (rows, cols).
at::Tensor prepare_importance(const at::Tensor& importance, at::IntArrayRef weight_shape,
                              const QuantizationArgs& args);

class IMatrixMSEObserver : public Observer {
 public:
  IMatrixMSEObserver(std::string base_name, QuantizationArgs args,
                     const nlohmann::json& observer_kwargs = nlohmann::json::object());
  ~IMatrixMSEObserver() override;
  std::string name() const override { return name_; }
  const IMatrixMSEOptions& options() const { return options_; }

  // _imatrix_sum and _imatrix_count, both summed across ranks; none once the sums were adopted
  // from a gatherer, which all-reduced them at its own epoch end (summing again would count
  // every rank's tokens world_size times).
  std::vector<std::pair<std::string, ReduceOp>> accumulators() const override;

  // Removes a previous hook. On an llmc::nn::Linear: adopts `_imatrix_sum`/`_imatrix_count`
  // left in module.attributes (moving them here, no hook), else starts fp32 zeros of
  // in_features and an int64 count on the weight's device and registers the forward-pre hook.
  // Any other module gets no importance (the search falls back, or throws when strict).
  void attach(torch::nn::Module& module) override;
  // Removes the hook; the sums stay on the observer.
  void detach(torch::nn::Module& module) override;
  bool hooked() const { return hook_.has_value(); }
  // The sums came from module attributes (a gatherer's), not from this observer's hook.
  bool adopted() const { return adopted_; }

  // Accumulates one input into the sums: Σx² over every leading dim in fp32 and the number of
  // tokens (product of the leading dims), on x's device, without a host synchronisation.
  void accumulate(const at::Tensor& input);
  // Observers of Linears fed the same input (q/k/v, gate/up) can share one cache so that their
  // hooks reduce each input once; nullptr (the default) computes every time.
  void share_squared_sums(std::shared_ptr<SquaredInputSumsCache> cache) {
    squared_sums_ = std::move(cache);
  }

  // Why the last observation ran unweighted (non-strict fallback), empty when it was weighted.
  const std::optional<std::string>& fallback_reason() const { return fallback_reason_; }

 protected:
  // For nvfp4_expanded_imatrix.
  IMatrixMSEObserver(std::string base_name, QuantizationArgs args,
                     const nlohmann::json& observer_kwargs, std::string name,
                     const IMatrixMSEOptions& defaults);
  void update_statistics_from_observed(const at::Tensor& observed) override;

 private:
  // Upstream _get_validated_importance: the 1-D importance, or nullopt after a non-strict
  // fallback (fallback_reason_ set); strict failures throw llmc::Error.
  std::optional<at::Tensor> validated_importance(const at::Tensor& observed);
  std::optional<at::Tensor> fall_back(const std::string& reason, bool unsupported);

  std::string name_;
  IMatrixMSEOptions options_;
  std::optional<nn::HookHandle> hook_;
  std::shared_ptr<SquaredInputSumsCache> squared_sums_;
  bool adopted_ = false;
  std::optional<std::string> fallback_reason_;
};

// nvfp4_expanded_imatrix: imatrix_mse with nvfp4_expanded_mse's range expansion
// (expand 1.8, maxshrink 1 - 0.8/1.8, grid 200, norm 2.4, patience 1000).
class NVFP4ExpandedIMatrixObserver : public IMatrixMSEObserver {
 public:
  NVFP4ExpandedIMatrixObserver(std::string base_name, QuantizationArgs args,
                               const nlohmann::json& observer_kwargs = nlohmann::json::object());
};

}  // namespace llmc
