// Min/max observers (LC reference §5.2, observers/min_max.py): memoryless_minmax (overwrite on
// every call), static_minmax (running min/max), minmax (moving average, averaging_constant).
//
//   llmc::MinMaxObserver ema("input", args.observer_kwargs({{"averaging_constant", 0.1}}));
#pragma once

#include <torch/arg.h>

#include <llmc/observers/observer.hpp>
#include <ostream>

namespace llmc {

struct MinMaxObserverOptions {
  // v = v_old * (1 - c) + v_new * c after the first observation; c == 1 overwrites.
  TORCH_ARG(double, averaging_constant) = 0.01;

 public:
  // Reads observer_kwargs (only averaging_constant, in [0, 1]); errors name the kwarg.
  static MinMaxObserverOptions from_kwargs(const nlohmann::json& kwargs,
                                           const std::string& observer);
  bool operator==(const MinMaxObserverOptions& other) const = default;
};

std::ostream& operator<<(std::ostream& os, const MinMaxObserverOptions& options);

// min = amin(x, dims (0, -1)), max = amax(...), replaced on every call. Accepts (and ignores)
// minmax's averaging_constant, since weight "minmax" is swapped for this observer (LC §11.4).
class MemorylessMinMaxObserver : public Observer {
 public:
  MemorylessMinMaxObserver(std::string base_name, QuantizationArgs args,
                           const nlohmann::json& observer_kwargs = nlohmann::json::object());
  std::string name() const override { return "memoryless_minmax"; }

 protected:
  void update_statistics_from_observed(const at::Tensor& observed) override;
};

// Running min(min) / max(max) over every call; ranks reduce with MIN / MAX. Takes no kwargs.
class StaticMinMaxObserver : public Observer {
 public:
  StaticMinMaxObserver(std::string base_name, QuantizationArgs args,
                       const nlohmann::json& observer_kwargs = nlohmann::json::object());
  std::string name() const override { return "static_minmax"; }
  std::vector<std::pair<std::string, ReduceOp>> accumulators() const override;

 protected:
  void update_statistics_from_observed(const at::Tensor& observed) override;
};

// Exponential moving average of min/max; ranks reduce with AVG (the mean of the ranks' EMAs).
class MinMaxObserver : public Observer {
 public:
  MinMaxObserver(std::string base_name, QuantizationArgs args,
                 const nlohmann::json& observer_kwargs = nlohmann::json::object());
  std::string name() const override { return "minmax"; }
  std::vector<std::pair<std::string, ReduceOp>> accumulators() const override;
  const MinMaxObserverOptions& options() const { return options_; }

 protected:
  void update_statistics_from_observed(const at::Tensor& observed) override;

 private:
  MinMaxObserverOptions options_;
};

// amin / amax over dims (0, -1) of a flattened observation.
std::pair<at::Tensor, at::Tensor> observed_min_max(const at::Tensor& observed);

}  // namespace llmc
