#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/observers/min_max.hpp>
#include <llmc/observers/mse.hpp>
#include <llmc/observers/nvfp4_expanded_mse.hpp>
#include <llmc/observers/registry.hpp>
#include <mutex>

namespace llmc {
namespace {

template <typename T>
ObserverFactory factory_of() {
  return [](const std::string& base_name, const QuantizationArgs& args,
            const nlohmann::json& observer_kwargs) -> std::unique_ptr<Observer> {
    return std::make_unique<T>(base_name, args, observer_kwargs);
  };
}

// Every built-in observer, in upstream's registration order (LC §5.2).
void register_builtin_observers(Registry<ObserverFactory>& registry) {
  registry.add("memoryless_minmax", factory_of<MemorylessMinMaxObserver>());
  registry.add("static_minmax", factory_of<StaticMinMaxObserver>());
  registry.add("minmax", factory_of<MinMaxObserver>());
  registry.add("memoryless_mse", factory_of<MemorylessMSEObserver>());
  registry.add("mse", factory_of<MovingAverageMSEObserver>());
  registry.add("nvfp4_expanded_mse", factory_of<NVFP4ExpandedMSEObserver>());
  // Upstream's alias (it also warns that nvfp4_expanded_mse is the better-named spelling).
  registry.add("fouroversix", factory_of<NVFP4ExpandedMSEObserver>());
  registry.add("imatrix_mse", factory_of<IMatrixMSEObserver>());
  registry.add("nvfp4_expanded_imatrix", factory_of<NVFP4ExpandedIMatrixObserver>());
}

std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

Registry<ObserverFactory>& observer_registry() {
  static Registry<ObserverFactory> registry = [] {
    Registry<ObserverFactory> r("observer");
    register_builtin_observers(r);
    return r;
  }();
  return registry;
}

void register_observer(const std::string& name, ObserverFactory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  observer_registry().add(name, std::move(factory));
}

std::unique_ptr<Observer> load_observer(const std::string& name, const std::string& base_name,
                                        const QuantizationArgs& args,
                                        const nlohmann::json& observer_kwargs) {
  ObserverFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    factory = observer_registry().get(name);
  }
  return factory(base_name, args, observer_kwargs);
}

}  // namespace llmc
