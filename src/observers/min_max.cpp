#include <llmc/observers/min_max.hpp>
#include <llmc/observers/observer_kwargs.hpp>

namespace llmc {

std::pair<at::Tensor, at::Tensor> observed_min_max(const at::Tensor& observed) {
  return {at::amin(observed, {0, -1}), at::amax(observed, {0, -1})};
}

MinMaxObserverOptions MinMaxObserverOptions::from_kwargs(const nlohmann::json& kwargs,
                                                         const std::string& observer) {
  const ObserverKwargs kw(kwargs, observer, {"averaging_constant"});
  MinMaxObserverOptions options;
  options.averaging_constant(kw.number("averaging_constant", options.averaging_constant()));
  const double c = options.averaging_constant();
  if (!(c >= 0.0 && c <= 1.0)) kw.out_of_range("averaging_constant", c, "0 <= c <= 1");
  return options;
}

std::ostream& operator<<(std::ostream& os, const MinMaxObserverOptions& options) {
  return os << "MinMaxObserverOptions(averaging_constant=" << options.averaging_constant() << ")";
}

MemorylessMinMaxObserver::MemorylessMinMaxObserver(std::string base_name, QuantizationArgs args,
                                                   const nlohmann::json& observer_kwargs)
    : Observer(std::move(base_name), std::move(args), observer_kwargs) {
  // Accepted (and unused) because llm-compressor swaps weight "minmax" for this one (LC §11.4).
  MinMaxObserverOptions::from_kwargs(args_.observer_kwargs(), name());
}

void MemorylessMinMaxObserver::update_statistics_from_observed(const at::Tensor& observed) {
  auto [min_vals, max_vals] = observed_min_max(observed);
  set_min_max(std::move(min_vals), std::move(max_vals));
}

StaticMinMaxObserver::StaticMinMaxObserver(std::string base_name, QuantizationArgs args,
                                           const nlohmann::json& observer_kwargs)
    : Observer(std::move(base_name), std::move(args), observer_kwargs) {
  ObserverKwargs(args_.observer_kwargs(), name(), {});
}

std::vector<std::pair<std::string, ReduceOp>> StaticMinMaxObserver::accumulators() const {
  return {{"min_vals", ReduceOp::Min}, {"max_vals", ReduceOp::Max}};
}

void StaticMinMaxObserver::update_statistics_from_observed(const at::Tensor& observed) {
  auto [min_vals, max_vals] = observed_min_max(observed);
  if (has_statistics()) {
    min_vals = at::min(min_vals, stat("min_vals"));
    max_vals = at::max(max_vals, stat("max_vals"));
  }
  set_min_max(std::move(min_vals), std::move(max_vals));
}

MinMaxObserver::MinMaxObserver(std::string base_name, QuantizationArgs args,
                               const nlohmann::json& observer_kwargs)
    : Observer(std::move(base_name), std::move(args), observer_kwargs),
      options_(MinMaxObserverOptions::from_kwargs(args_.observer_kwargs(), name())) {}

std::vector<std::pair<std::string, ReduceOp>> MinMaxObserver::accumulators() const {
  return {{"min_vals", ReduceOp::Avg}, {"max_vals", ReduceOp::Avg}};
}

void MinMaxObserver::update_statistics_from_observed(const at::Tensor& observed) {
  auto [min_vals, max_vals] = observed_min_max(observed);
  set_min_max_moving_average(std::move(min_vals), std::move(max_vals),
                             options_.averaging_constant());
}

}  // namespace llmc
