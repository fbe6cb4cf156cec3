// All-reduce of the activation statistics observers accumulate during calibration (upstream's
// sync_activation_stats / sync_obs_act_stats, LC reference §5.3): at SEQUENTIAL_EPOCH_END,
// before any weight is observed, so every rank computes its qparams from the same statistics.
//
//   llmc::dist::sync_observer_statistics(state.process_group.get(),
//                                        llmc::dist::module_observers(modules), "epoch end");
#pragma once

#include <llmc/dist/process_group.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/observers/observer.hpp>
#include <string>
#include <vector>

namespace llmc::dist {

// An observer and the module it watches (the module name goes into error messages).
struct ModuleObserver {
  std::string module;
  Observer* observer = nullptr;
};

// The observers LinearImpl::observers holds for `modules`, module by module in the given order
// and by base name within a module: the same order on every rank for the same model.
std::vector<ModuleObserver> module_observers(const std::vector<nn::NamedLinear>& modules);

// Every accumulator the observers declare (Observer::accumulators) is all-reduced with its op
// in two collectives: first a table of which rank holds which accumulator with what dtype and
// shape (MAX), then the values, coalesced into one flat buffer per (op, dtype), all issued at
// once and then waited for. A rank that holds no
// value for an accumulator others hold (it saw no tokens for that module) contributes the op's
// identity (0 for SUM, +inf/-inf for MIN/MAX) and receives the result; AVG is the mean over the
// ranks that hold the value. Ranks disagreeing on an accumulator's dtype or shape throw
// llmc::Error naming the module and accumulator. No-op when `group` is null (a world of one).
void sync_observer_statistics(ProcessGroup* group, const std::vector<ModuleObserver>& observers,
                              const std::string& step);

}  // namespace llmc::dist
