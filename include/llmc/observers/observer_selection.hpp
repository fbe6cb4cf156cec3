// Which observer a module's weight / input / output gets, as llm-compressor's
// initialize_observer decides it (LC reference §3.3): the args' observer, else
// memoryless_minmax for weights and minmax for activations; weights never keep running
// statistics (minmax/static_minmax → memoryless_minmax, mse → memoryless_mse); dynamic args
// get no observer.
//
//   std::optional<std::string> name = llmc::resolve_observer_name("weight", args);
#pragma once

#include <llmc/observers/observer.hpp>

#include <memory>
#include <optional>
#include <string>

namespace llmc {

// std::nullopt when the args are dynamic (qparams computed on the fly, nothing to observe).
std::optional<std::string> resolve_observer_name(const std::string& base_name,
                                                 const QuantizationArgs& args);

// resolve_observer_name + load_observer; null when there is nothing to observe.
std::unique_ptr<Observer> initialize_observer(const std::string& base_name,
                                              const QuantizationArgs& args);

}  // namespace llmc
