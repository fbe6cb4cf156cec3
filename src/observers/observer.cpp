#include <llmc/error.hpp>
#include <llmc/observers/fusion.hpp>
#include <llmc/observers/helpers.hpp>
#include <llmc/observers/observer.hpp>
#include <llmc/quant/check_finite.hpp>
#include <llmc/quant/qparams.hpp>

namespace llmc {
namespace {

QuantizationArgs with_kwargs(QuantizationArgs args, const nlohmann::json& observer_kwargs) {
  if (!args.strategy().has_value()) args = args.validated();
  if (!observer_kwargs.is_object()) {
    throw Error("observer_kwargs must be a mapping, got " + observer_kwargs.dump());
  }
  if (!args.observer_kwargs().is_object()) args.observer_kwargs(nlohmann::json::object());
  args.observer_kwargs().update(observer_kwargs);
  return args;
}

}  // namespace

Observer::Observer(std::string base_name, QuantizationArgs args,
                   const nlohmann::json& observer_kwargs)
    : base_name_(std::move(base_name)), args_(with_kwargs(std::move(args), observer_kwargs)) {
  if (!is_known_base_name(base_name_)) {
    throw Error("observer: unknown base name '" + base_name_ +
                "' (known: weight, input, output, q, k, v)");
  }
}

Observer::~Observer() {
  if (fusion_group_) fusion_group_->remove(*this);
}

std::string Observer::describe() const { return name() + " observer of " + base_name_; }

Observer& Observer::operator()(const at::Tensor& observed) {
  if (observed.numel() == 0) return *this;
  // Weights do not change during calibration: observe once until get_qparams (LC §5.1).
  if (is_weight_observer() && has_statistics()) return *this;
  observed_shape_ = observed.sizes().vec();
  try {
    try {
      update_statistics_from_observed(flatten_for_calibration(observed, base_name_, args_));
      if (is_weight_observer()) require_finite_statistics();
    } catch (const Error&) {
      // Upstream turns a NaN weight into NaN qparams silently. NaN/inf always reach the ranges
      // (amin/amax propagate them), so the weight itself is scanned only on failure, to name
      // the first bad element; a full isfinite pass up front would cost more than minmax itself.
      // Activations are checked once, on their statistics, in get_qparams.
      if (is_weight_observer()) check_finite(observed, "observed weight");
      throw;
    }
  } catch (const Error& e) {
    rethrow_with_context(describe(), e);
  }
  // Upstream observes fused partners eagerly here so the group's ranges exist together.
  if (fusion_group_) fusion_group_->observed_members(*this);
  return *this;
}

std::optional<at::Tensor> Observer::get_global_scale() {
  if (args_.strategy() != QuantizationStrategy::TensorGroup) return std::nullopt;
  require_statistics("get_global_scale");
  std::vector<Observer*> members{this};
  if (fusion_group_) members = fusion_group_->observed_members(*this);
  // Post-search ranges of every fused member share one scale (LC §5.7, §11.14).
  at::Tensor global_absmax = members.front()->stat("max_vals").max();
  for (Observer* member : members) {
    member->require_statistics("get_global_scale");
    global_absmax = at::max(global_absmax, -member->stat("min_vals").min());
    global_absmax = at::max(global_absmax, member->stat("max_vals").max());
  }
  return generate_gparam(-global_absmax.reshape({1}), global_absmax.reshape({1}));
}

QParams Observer::get_qparams() {
  require_statistics("get_qparams");
  for (const char* attr : {"min_vals", "max_vals"}) {
    if (at::isnan(stat(attr)).any().item<bool>()) {
      throw Error(describe() + ": " + attr + " contain NaN; the observed values have NaN");
    }
  }
  QParams qparams;
  try {
    qparams.global_scale = get_global_scale();
    std::tie(qparams.scale, qparams.zero_point) =
        calculate_qparams(stat("min_vals"), stat("max_vals"), args_, qparams.global_scale);
  } catch (const Error& e) {
    rethrow_with_context(describe(), e);
  }
  delete_statistics();
  return qparams;
}

bool Observer::has_statistics() const {
  for (const auto& attr : stats_attrs()) {
    if (statistics_.count(attr) == 0) return false;
  }
  return true;
}

std::map<std::string, at::Tensor> Observer::get_statistics() const {
  require_statistics("get_statistics");
  std::map<std::string, at::Tensor> out;
  for (const auto& attr : stats_attrs()) out.emplace(attr, statistics_.at(attr));
  return out;
}

void Observer::delete_statistics(bool check_fused) {
  if (check_fused && fusion_group_) {
    fusion_group_->maybe_delete_statistics(*this);
  } else {
    delete_own_statistics();
  }
}

void Observer::delete_own_statistics() {
  statistics_.clear();
}

void Observer::attach(torch::nn::Module& /*module*/) {}
void Observer::detach(torch::nn::Module& /*module*/) {}

at::Tensor Observer::stat(const std::string& attr) const {
  auto it = statistics_.find(attr);
  return it == statistics_.end() ? at::Tensor() : it->second;
}

void Observer::set_min_max(at::Tensor min_vals, at::Tensor max_vals) {
  statistics_["min_vals"] = std::move(min_vals);
  statistics_["max_vals"] = std::move(max_vals);
}

void Observer::set_min_max_moving_average(at::Tensor min_vals, at::Tensor max_vals,
                                          double averaging_constant) {
  const double c = averaging_constant;
  if (has_statistics() && c != 1.0) {
    min_vals = (stat("min_vals") * (1.0 - c)) + (min_vals * c);
    max_vals = (stat("max_vals") * (1.0 - c)) + (max_vals * c);
  }
  set_min_max(std::move(min_vals), std::move(max_vals));
}

void Observer::require_finite_statistics() const {
  for (const char* attr : {"min_vals", "max_vals"}) {
    const at::Tensor value = stat(attr);
    if (value.defined()) check_finite(value, attr);
  }
}

void Observer::require_statistics(const char* action) const {
  if (!has_statistics()) {
    throw Error(describe() + ": " + action +
                " without statistics; call the observer on a value first");
  }
}

}  // namespace llmc
