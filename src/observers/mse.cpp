#include <cmath>
#include <llmc/observers/min_max.hpp>
#include <llmc/observers/mse.hpp>
#include <llmc/observers/observer_kwargs.hpp>

namespace llmc {
namespace {

void validate(const MSEObserverOptions& o, const ObserverKwargs& kw) {
  if (!(o.maxshrink() >= 0.0 && o.maxshrink() <= 1.0)) {
    kw.out_of_range("maxshrink", o.maxshrink(), "0 <= maxshrink <= 1");
  }
  if (o.patience() < 0) kw.out_of_range("patience", o.patience(), "integer >= 0");
  if (!(std::isfinite(o.grid()) && o.grid() > 0.0)) {
    kw.out_of_range("grid", o.grid(), "finite, > 0");
  }
  if (!(std::isfinite(o.norm()) && o.norm() > 0.0)) {
    kw.out_of_range("norm", o.norm(), "finite, > 0");
  }
  // Upstream raises for expand < 1: the search only ever shrinks from expand × the range.
  if (!(std::isfinite(o.expand()) && o.expand() >= 1.0)) {
    kw.out_of_range("expand", o.expand(), "finite, >= 1");
  }
  if (o.chunk_size() <= 0) kw.out_of_range("chunk_size", o.chunk_size(), "integer > 0");
  if (o.triton_error_buffer() &&
      !(std::isfinite(*o.triton_error_buffer()) && *o.triton_error_buffer() >= 0.0)) {
    kw.out_of_range("triton_error_buffer", *o.triton_error_buffer(), "finite, >= 0");
  }
  if (!(o.averaging_constant() >= 0.0 && o.averaging_constant() <= 1.0)) {
    kw.out_of_range("averaging_constant", o.averaging_constant(), "0 <= c <= 1");
  }
}

}  // namespace

MSEObserverOptions MSEObserverOptions::from_kwargs(const nlohmann::json& kwargs,
                                                   const std::string& observer,
                                                   const MSEObserverOptions& defaults) {
  const ObserverKwargs kw(kwargs, observer,
                          {"maxshrink", "patience", "grid", "norm", "expand", "chunk_size",
                           "triton_error_buffer", "averaging_constant"});
  MSEObserverOptions o = defaults;
  o.maxshrink(kw.number("maxshrink", o.maxshrink()))
      .patience(kw.integer("patience", o.patience()))
      .grid(kw.number("grid", o.grid()))
      .norm(kw.number("norm", o.norm()))
      .expand(kw.number("expand", o.expand()))
      .chunk_size(kw.integer("chunk_size", o.chunk_size()))
      .averaging_constant(kw.number("averaging_constant", o.averaging_constant()));
  if (kw.contains("triton_error_buffer")) {
    o.triton_error_buffer(kw.number("triton_error_buffer", 0.0));
  }
  validate(o, kw);
  return o;
}

GridSearchOptions MSEObserverOptions::grid_search() const {
  return GridSearchOptions::mse()
      .maxshrink(maxshrink_)
      .grid(grid_)
      .norm(norm_)
      .patience(patience_)
      .expand(expand_);
}

std::ostream& operator<<(std::ostream& os, const MSEObserverOptions& o) {
  os << "MSEObserverOptions(maxshrink=" << o.maxshrink() << ", patience=" << o.patience()
     << ", grid=" << o.grid() << ", norm=" << o.norm() << ", expand=" << o.expand()
     << ", chunk_size=" << o.chunk_size() << ", triton_error_buffer=";
  if (o.triton_error_buffer()) {
    os << *o.triton_error_buffer();
  } else {
    os << "default";
  }
  return os << ", averaging_constant=" << o.averaging_constant() << ")";
}

MemorylessMSEObserver::MemorylessMSEObserver(std::string base_name, QuantizationArgs args,
                                             const nlohmann::json& observer_kwargs)
    : MemorylessMSEObserver(std::move(base_name), std::move(args), observer_kwargs,
                            "memoryless_mse", MSEObserverOptions()) {}

MemorylessMSEObserver::MemorylessMSEObserver(std::string base_name, QuantizationArgs args,
                                             const nlohmann::json& observer_kwargs,
                                             const std::string& name,
                                             const MSEObserverOptions& defaults)
    : Observer(std::move(base_name), std::move(args), observer_kwargs),
      options_(MSEObserverOptions::from_kwargs(args_.observer_kwargs(), name, defaults)) {}

void MemorylessMSEObserver::update_statistics_from_observed(const at::Tensor& observed) {
  auto [min_vals, max_vals] = grid_search_mse(observed, args_, options_.grid_search());
  set_min_max(std::move(min_vals), std::move(max_vals));
}

MovingAverageMSEObserver::MovingAverageMSEObserver(std::string base_name, QuantizationArgs args,
                                                   const nlohmann::json& observer_kwargs)
    : Observer(std::move(base_name), std::move(args), observer_kwargs),
      options_(
          MSEObserverOptions::from_kwargs(args_.observer_kwargs(), "mse", MSEObserverOptions())) {}

std::vector<std::pair<std::string, ReduceOp>> MovingAverageMSEObserver::accumulators() const {
  return {{"min_vals", ReduceOp::Avg}, {"max_vals", ReduceOp::Avg}};
}

void MovingAverageMSEObserver::update_statistics_from_observed(const at::Tensor& observed) {
  auto [min_vals, max_vals] = grid_search_mse(observed, args_, options_.grid_search());
  set_min_max_moving_average(std::move(min_vals), std::move(max_vals),
                             options_.averaging_constant());
}

}  // namespace llmc
