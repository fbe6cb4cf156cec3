#include <llmc/core/modifier_kwargs.hpp>
#include <llmc/core/registry.hpp>
#include <llmc/dist/sync_statistics.hpp>
#include <llmc/error.hpp>
#include <llmc/modifiers/imatrix_gatherer.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/observers/registry.hpp>
#include <set>

namespace llmc {
namespace {

void require_imatrix(const std::string& weight_observer) {
  if (standardize_lookup_name(weight_observer) != standardize_lookup_name("imatrix_mse")) {
    throw Error("IMatrixGatherer.weight_observer: must be 'imatrix_mse', got '" +
                weight_observer + "' (the gatherer only collects importance for imatrix_mse)");
  }
}

// The args the gatherer's observer is built with: upstream constructs
// QuantizationArgs(observer="imatrix_mse") (8-bit int tensor) only to have an observer; the
// search settings never matter because the gatherer never observes a weight.
QuantizationArgs gatherer_args() {
  return QuantizationArgs().observer("imatrix_mse").validated();
}

}  // namespace

IMatrixGatherer::IMatrixGatherer(IMatrixGathererOptions options) : options_(std::move(options)) {
  require_imatrix(options_.weight_observer());
}

IMatrixGatherer::IMatrixGatherer(const ModifierSpec& spec) {
  ModifierKwargs kw(spec, {"targets", "ignore", "weight_observer"});
  if (auto v = kw.strings("targets")) options_.targets(*v);
  if (auto v = kw.strings("ignore")) options_.ignore(*v);
  if (auto v = kw.string("weight_observer")) options_.weight_observer(*v);
  try {
    require_imatrix(options_.weight_observer());
  } catch (const std::exception& e) {
    kw.fail("weight_observer", e.what());
  }
  kw.apply_common(*this);
}

nlohmann::ordered_json IMatrixGatherer::args_json() const {
  nlohmann::ordered_json args = nlohmann::ordered_json::object();
  args["targets"] = options_.targets();
  args["ignore"] = options_.ignore();
  args["weight_observer"] = options_.weight_observer();
  append_common_args(args);
  return args;
}

bool IMatrixGatherer::on_initialize(State& state) {
  if (!state.model) throw Error("IMatrixGatherer: the state has no model");
  modules_ = nn::match_named_linears(*state.model, options_.targets(), options_.ignore());
  observers_.clear();
  squared_sums_ = std::make_shared<SquaredInputSumsCache>();
  for (auto& [name, linear] : modules_) {
    auto observer = std::make_shared<IMatrixMSEObserver>("weight", gatherer_args());
    observer->share_squared_sums(squared_sums_);
    // A fresh hook of our own, even if an earlier gatherer left sums on the module: those are
    // replaced when this epoch's sums are handed over.
    observer->attach(*linear);
    if (!observer->hooked()) {
      // attach adopted leftovers instead of hooking: discard them and start from zero.
      observer->statistics().clear();
      linear->attributes.erase(kIMatrixSum);
      linear->attributes.erase(kIMatrixCount);
      observer->attach(*linear);
    }
    observers_.push_back(std::move(observer));
  }
  return true;
}

void IMatrixGatherer::on_sequential_epoch_end(State& state, const Event&,
                                              const std::vector<nn::NamedModule>& modules) {
  std::set<const torch::nn::Module*> in_epoch;
  for (const auto& [name, module] : modules) in_epoch.insert(module.get());
  std::vector<dist::ModuleObserver> observers;
  for (size_t i = 0; i < modules_.size(); ++i) {
    if (in_epoch.count(modules_[i].second.get()) != 0) {
      observers.push_back({modules_[i].first, observers_[i].get()});
    }
  }
  if (squared_sums_) squared_sums_->clear();  // releases the last input it held
  dist::sync_observer_statistics(state.process_group.get(), observers,
                                 type() + " epoch end (" + std::to_string(observers.size()) +
                                     " modules)");
}

void IMatrixGatherer::on_calibration_end(State&, const Event&) {
  for (size_t i = 0; i < modules_.size(); ++i) {
    auto& linear = *modules_[i].second;
    auto& observer = *observers_[i];
    observer.detach(linear);
    // The raw sums stay on the module for the next imatrix_mse observer to adopt.
    auto& stats = observer.statistics();
    linear.attributes[kIMatrixSum] = stats.at(kIMatrixSum);
    linear.attributes[kIMatrixCount] = stats.at(kIMatrixCount);
  }
  observers_.clear();
  if (squared_sums_) squared_sums_->clear();
}

bool IMatrixGatherer::on_finalize(State&) {
  for (size_t i = 0; i < observers_.size(); ++i) observers_[i]->detach(*modules_[i].second);
  observers_.clear();
  squared_sums_.reset();
  for (auto& [name, linear] : modules_) {
    linear->attributes.erase(kIMatrixSum);
    linear->attributes.erase(kIMatrixCount);
  }
  return true;
}

}  // namespace llmc
