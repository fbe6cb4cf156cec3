#include <llmc/observers/nvfp4_expanded_mse.hpp>

namespace llmc {

MSEObserverOptions NVFP4ExpandedMSEObserver::default_options() {
  return MSEObserverOptions()
      .expand(1.8)
      .maxshrink(1.0 - 0.8 / 1.8)
      .grid(200.0)
      .patience(1000)
      .triton_error_buffer(1.0);
}

NVFP4ExpandedMSEObserver::NVFP4ExpandedMSEObserver(std::string base_name, QuantizationArgs args,
                                                   const nlohmann::json& observer_kwargs)
    : MemorylessMSEObserver(std::move(base_name), std::move(args), observer_kwargs,
                            "nvfp4_expanded_mse", default_options()) {}

}  // namespace llmc
