// Observer registry: the user-facing observer names of llm-compressor (memoryless_minmax,
// static_minmax, minmax, memoryless_mse, mse, nvfp4_expanded_mse, fouroversix) → factories,
// looked up case/separator-insensitively. Users add their own with register_observer.
//
//   llmc::register_observer("my_obs", [](auto base, auto args, auto kw) {
//     return std::make_unique<MyObserver>(base, args, kw); });
//   auto obs = llmc::load_observer("My-Obs", "weight", args);
#pragma once

#include <functional>
#include <llmc/core/registry.hpp>
#include <llmc/observers/observer.hpp>
#include <memory>
#include <string>

namespace llmc {

using ObserverFactory = std::function<std::unique_ptr<Observer>(
    const std::string& base_name, const QuantizationArgs& args,
    const nlohmann::json& observer_kwargs)>;

// The process-wide registry, with the built-in observers registered on first use (explicitly:
// a static library drops self-registering objects nobody references).
Registry<ObserverFactory>& observer_registry();

// Adds a user observer; a name that normalises to an existing one throws llmc::Error.
void register_observer(const std::string& name, ObserverFactory factory);

}  // namespace llmc
