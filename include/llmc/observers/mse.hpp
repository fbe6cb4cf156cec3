// MSE observers (LC reference §5.3, observers/mse.py): memoryless_mse runs the shrink-factor
// grid search on every call; mse ("MovingAverageMSEObserver") runs it and averages the
// winning ranges like minmax.
//
//   llmc::MemorylessMSEObserver obs("weight", args.observer_kwargs({{"maxshrink", 0.5}}));
#pragma once

#include <torch/arg.h>

#include <llmc/observers/grid_search.hpp>
#include <llmc/observers/observer.hpp>
#include <optional>
#include <ostream>

namespace llmc {

struct MSEObserverOptions {
  TORCH_ARG(double, maxshrink) = 0.20;  // [0, 1]
  TORCH_ARG(int64_t, patience) = 5;     // >= 0; 0 stops at the first candidate that misses
  TORCH_ARG(double, grid) = 100.0;      // > 0
  TORCH_ARG(double, norm) = 2.4;        // finite, > 0
  TORCH_ARG(double, expand) = 1.0;      // >= 1
  // Recipe compatibility, no effect on results: upstream's torch.compile path evaluated
  // chunk_size candidates per call and must equal eager (> 0); triton_error_buffer tunes only
  // upstream's CUDA Triton backend (>= 0) — llmc follows the eager search on every device.
  TORCH_ARG(int64_t, chunk_size) = 5;
  TORCH_ARG(std::optional<double>, triton_error_buffer) = std::nullopt;
  // The EMA constant of mse, in [0, 1]. memoryless_mse accepts and ignores it: for weights
  // llm-compressor silently swaps "mse" for "memoryless_mse" (LC §11.4), and a recipe that set
  // it must keep loading.
  TORCH_ARG(double, averaging_constant) = 0.01;

 public:
  // Reads observer_kwargs over `defaults`; unknown keys and out-of-range values throw
  // llmc::Error naming the kwarg, the observer and the allowed range.
  static MSEObserverOptions from_kwargs(const nlohmann::json& kwargs, const std::string& observer,
                                        const MSEObserverOptions& defaults);
  // The eager mse search: S = int(maxshrink * grid) candidates, error in x's dtype.
  GridSearchOptions grid_search() const;
  bool operator==(const MSEObserverOptions& other) const = default;
};

std::ostream& operator<<(std::ostream& os, const MSEObserverOptions& options);

class MemorylessMSEObserver : public Observer {
 public:
  MemorylessMSEObserver(std::string base_name, QuantizationArgs args,
                        const nlohmann::json& observer_kwargs = nlohmann::json::object());
  std::string name() const override { return "memoryless_mse"; }
  const MSEObserverOptions& options() const { return options_; }

 protected:
  // For subclasses with other defaults (nvfp4_expanded_mse).
  MemorylessMSEObserver(std::string base_name, QuantizationArgs args,
                        const nlohmann::json& observer_kwargs, const std::string& name,
                        const MSEObserverOptions& defaults);
  void update_statistics_from_observed(const at::Tensor& observed) override;

 private:
  MSEObserverOptions options_;
};

class MovingAverageMSEObserver : public Observer {
 public:
  MovingAverageMSEObserver(std::string base_name, QuantizationArgs args,
                           const nlohmann::json& observer_kwargs = nlohmann::json::object());
  std::string name() const override { return "mse"; }
  std::vector<std::pair<std::string, ReduceOp>> accumulators() const override;
  const MSEObserverOptions& options() const { return options_; }

 protected:
  void update_statistics_from_observed(const at::Tensor& observed) override;

 private:
  MSEObserverOptions options_;
};

}  // namespace llmc
