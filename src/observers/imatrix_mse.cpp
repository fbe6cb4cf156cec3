#include <cmath>
#include <limits>
#include <llmc/error.hpp>
#include <llmc/nn/linear.hpp>
#include <llmc/observers/helpers.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/observers/observer_kwargs.hpp>
#include <sstream>

namespace llmc {
namespace {

// Upstream IMATRIX_PRECISION: sums, importance and the search error are fp32.
constexpr auto kIMatrixPrecision = at::kFloat;

void validate(const IMatrixMSEOptions& o, const ObserverKwargs& kw) {
  if (!(o.grid() > 0.0) || !std::isfinite(o.grid())) {
    kw.out_of_range("grid", o.grid(), "grid must be > 0");
  }
  if (o.patience() < 0) kw.out_of_range("patience", o.patience(), "patience must be >= 0");
  if (!(o.maxshrink() >= 0.0 && o.maxshrink() <= 1.0)) {
    kw.out_of_range("maxshrink", o.maxshrink(), "maxshrink must be in [0, 1]");
  }
  if (!(std::isfinite(o.norm()) && o.norm() > 0.0)) {
    kw.out_of_range("norm", o.norm(), "norm must be a finite positive number");
  }
  if (!(std::isfinite(o.expand()) && o.expand() > 0.0)) {
    kw.out_of_range("expand", o.expand(), "expand must be a finite positive number");
  }
}

bool is_group_strategy(QuantizationStrategy s) {
  return s == QuantizationStrategy::Group || s == QuantizationStrategy::TensorGroup;
}

}  // namespace

IMatrixMSEOptions IMatrixMSEOptions::from_kwargs(const nlohmann::json& kwargs,
                                                 const std::string& observer,
                                                 const IMatrixMSEOptions& defaults) {
  const ObserverKwargs kw(kwargs, observer,
                          {"maxshrink", "patience", "grid", "norm", "strict", "expand"});
  IMatrixMSEOptions o = defaults;
  o.maxshrink(kw.number("maxshrink", o.maxshrink()))
      .patience(kw.integer("patience", o.patience()))
      .grid(kw.number("grid", o.grid()))
      .norm(kw.number("norm", o.norm()))
      .strict(kw.boolean("strict", o.strict()))
      .expand(kw.number("expand", o.expand()));
  validate(o, kw);
  return o;
}

GridSearchOptions IMatrixMSEOptions::grid_search() const {
  return GridSearchOptions::imatrix()
      .maxshrink(maxshrink_)
      .grid(grid_)
      .norm(norm_)
      .patience(patience_)
      .expand(expand_);
}

std::ostream& operator<<(std::ostream& os, const IMatrixMSEOptions& o) {
  return os << "IMatrixMSEOptions(maxshrink=" << o.maxshrink() << ", patience=" << o.patience()
            << ", grid=" << o.grid() << ", norm=" << o.norm()
            << ", strict=" << (o.strict() ? "true" : "false") << ", expand=" << o.expand()
            << ")";
}

at::Tensor prepare_importance(const at::Tensor& importance, at::IntArrayRef weight_shape,
                              const QuantizationArgs& args) {
  if (importance.dim() != 1 || weight_shape.size() != 2 || importance.numel() != weight_shape[1]) {
    std::ostringstream msg;
    msg << "imatrix_mse: importance of shape " << importance.sizes()
        << " does not match a weight of shape " << weight_shape;
    throw Error(msg.str());
  }
  at::Tensor imp = importance.to(kIMatrixPrecision);
  imp = imp / (imp.mean() + std::numeric_limits<float>::min());
  // Weight element (r, c) is weighted by the importance of input column c.
  return flatten_for_calibration(imp.unsqueeze(0).expand({weight_shape[0], -1}), "weight", args);
}

IMatrixMSEObserver::IMatrixMSEObserver(std::string base_name, QuantizationArgs args,
                                       const nlohmann::json& observer_kwargs)
    : IMatrixMSEObserver(std::move(base_name), std::move(args), observer_kwargs, "imatrix_mse",
                         IMatrixMSEOptions()) {}

IMatrixMSEObserver::IMatrixMSEObserver(std::string base_name, QuantizationArgs args,
                                       const nlohmann::json& observer_kwargs, std::string name,
                                       const IMatrixMSEOptions& defaults)
    : Observer(std::move(base_name), std::move(args), observer_kwargs),
      name_(std::move(name)),
      options_(IMatrixMSEOptions::from_kwargs(args_.observer_kwargs(), name_, defaults)) {}

IMatrixMSEObserver::~IMatrixMSEObserver() {
  // The hook captures this observer: it must not outlive it.
  if (hook_) hook_->remove();
}

std::vector<std::pair<std::string, ReduceOp>> IMatrixMSEObserver::accumulators() const {
  if (adopted_) return {};
  return {{kIMatrixSum, ReduceOp::Sum}, {kIMatrixCount, ReduceOp::Sum}};
}

void IMatrixMSEObserver::attach(torch::nn::Module& module) {
  if (hook_) {
    hook_->remove();
    hook_.reset();
  }
  adopted_ = false;
  auto* linear = dynamic_cast<nn::LinearImpl*>(&module);
  if (linear == nullptr) return;  // upstream: no in_features → no importance
  auto& attrs = linear->attributes;
  auto sum = attrs.find(kIMatrixSum);
  auto count = attrs.find(kIMatrixCount);
  if (sum != attrs.end() && count != attrs.end()) {
    // Sums an IMatrixGatherer gathered in its own calibration epoch: adopt them, no hook.
    statistics_[kIMatrixSum] = std::move(sum->second);
    statistics_[kIMatrixCount] = std::move(count->second);
    attrs.erase(kIMatrixSum);
    attrs.erase(kIMatrixCount);
    adopted_ = true;
    return;
  }
  const auto device = linear->weight.device();
  statistics_[kIMatrixSum] =
      at::zeros({linear->options.in_features()}, at::TensorOptions(kIMatrixPrecision).device(device));
  statistics_[kIMatrixCount] = at::zeros({}, at::TensorOptions(at::kLong).device(device));
  hook_ = linear->register_forward_pre_hook(
      [this](nn::LinearImpl&, const torch::Tensor& input) -> std::optional<torch::Tensor> {
        accumulate(input);
        return std::nullopt;
      });
}

void IMatrixMSEObserver::detach(torch::nn::Module& /*module*/) {
  if (hook_) {
    hook_->remove();
    hook_.reset();
  }
}

void IMatrixMSEObserver::accumulate(const at::Tensor& input) {
  if (!input.defined()) return;
  at::Tensor& sum = statistics_[kIMatrixSum];
  at::Tensor& count = statistics_[kIMatrixCount];
  if (!sum.defined() || !count.defined()) {
    throw Error(describe() + ": accumulate() before attach(): no importance sums to add to");
  }
  if (input.dim() == 0 || input.size(-1) != sum.size(0)) {
    std::ostringstream msg;
    msg << describe() << ": input of shape " << input.sizes() << " does not end in the "
        << sum.size(0) << " input features the importance was sized for";
    throw Error(msg.str());
  }
  // Σx² over every leading dim (upstream reduces the same dims with the same ops, so the fp32
  // sums are bit-identical); a 1-D input is one token.
  const at::Tensor token_sum =
      squared_sums_ ? squared_sums_->sums_of(input) : squared_input_sums(input);
  const int64_t n_tokens = input.numel() / input.size(-1);
  if (sum.device() != token_sum.device()) {
    sum = sum.to(token_sum.device());
    count = count.to(token_sum.device());
  }
  sum.add_(token_sum);
  count.add_(n_tokens);
}

std::optional<at::Tensor> IMatrixMSEObserver::fall_back(const std::string& reason,
                                                        bool unsupported) {
  if (options_.strict()) {
    throw Error(describe() + ": imatrix_mse: " + reason +
                (unsupported ? "" : " (strict=True; set strict: false to fall back to uniform MSE)"));
  }
  fallback_reason_ = reason + "; fell back to uniform MSE";
  return std::nullopt;
}

std::optional<at::Tensor> IMatrixMSEObserver::validated_importance(const at::Tensor& observed) {
  if (!is_weight_observer()) return fall_back("only supported for weight observers", true);
  const auto strategy = args_.strategy().value_or(QuantizationStrategy::Tensor);
  if (strategy == QuantizationStrategy::Tensor) {
    return fall_back("TENSOR strategy not supported", true);
  }
  auto sum = statistics_.find(kIMatrixSum);
  auto count = statistics_.find(kIMatrixCount);
  if (sum == statistics_.end() || count == statistics_.end() || !sum->second.defined() ||
      count->second.item<int64_t>() == 0) {
    return fall_back("no importance data available", false);
  }
  const at::Tensor imp = sum->second / count->second.to(at::kFloat);
  if (!at::isfinite(imp).all().item<bool>()) return fall_back("contains non-finite values", false);
  if ((imp < 0).any().item<bool>()) return fall_back("contains negative values", false);
  if ((imp == 0).all().item<bool>()) return fall_back("all zeros", false);

  int64_t expected = 0;
  if (strategy == QuantizationStrategy::Channel) {
    expected = observed.size(-1);
  } else if (is_group_strategy(strategy)) {
    expected = observed.size(2) * observed.size(3);
  } else if (strategy == QuantizationStrategy::Block && observed_shape_.size() == 2) {
    expected = observed_shape_[1];  // llmc: BLOCK is weighted per column (upstream falls back)
  } else {
    return fall_back("unsupported strategy " + to_string(strategy), true);
  }
  if (imp.numel() != expected) {
    return fall_back("size mismatch: expected " + std::to_string(expected) + ", got " +
                         std::to_string(imp.numel()),
                     false);
  }
  return imp;
}

void IMatrixMSEObserver::update_statistics_from_observed(const at::Tensor& observed) {
  fallback_reason_.reset();
  std::optional<at::Tensor> weights;
  if (auto imp = validated_importance(observed)) {
    std::vector<int64_t> weight_shape = observed_shape_;
    if (args_.strategy() != QuantizationStrategy::Block) {
      // CHANNEL / GROUP: the flattened rows and columns (upstream's observed.shape[1] rows).
      weight_shape = {observed.size(1), imp->numel()};
    }
    weights = prepare_importance(imp->to(observed.device()), weight_shape, args_);
  }
  auto [min_vals, max_vals] = grid_search_mse(observed, args_, options_.grid_search(), weights);
  set_min_max(std::move(min_vals), std::move(max_vals));
}

NVFP4ExpandedIMatrixObserver::NVFP4ExpandedIMatrixObserver(std::string base_name,
                                                           QuantizationArgs args,
                                                           const nlohmann::json& observer_kwargs)
    : IMatrixMSEObserver(std::move(base_name), std::move(args), observer_kwargs,
                         "nvfp4_expanded_imatrix",
                         IMatrixMSEOptions()
                             .expand(1.8)
                             .maxshrink(1.0 - 0.8 / 1.8)
                             .grid(200.0)
                             .norm(2.4)
                             .patience(1000)) {}

}  // namespace llmc
