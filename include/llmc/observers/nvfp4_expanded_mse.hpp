// nvfp4_expanded_mse (LC reference §5.2, PR #2950): memoryless_mse whose search starts at
// 1.8 × the observed range and shrinks to 0.8 × (111 candidates, grid 200), letting NVFP4 use
// the FP8 scale's headroom. Also registered as "fouroversix" (upstream's alias).
//
//   auto obs = llmc::load_observer("nvfp4_expanded_mse", "weight", nvfp4_args);
#pragma once

#include <llmc/observers/mse.hpp>

namespace llmc {

class NVFP4ExpandedMSEObserver : public MemorylessMSEObserver {
 public:
  // expand 1.8, maxshrink 1 - 0.8/1.8, grid 200, patience 1000; kwargs override them.
  static MSEObserverOptions default_options();

  NVFP4ExpandedMSEObserver(std::string base_name, QuantizationArgs args,
                           const nlohmann::json& observer_kwargs = nlohmann::json::object());
  std::string name() const override { return "nvfp4_expanded_mse"; }
};

}  // namespace llmc
