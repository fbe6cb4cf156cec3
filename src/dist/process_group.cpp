#include <llmc/dist/process_group.hpp>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/cuda.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "backends.hpp"

namespace llmc::dist {
namespace {

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

// Keys in the store: which step each rank reached, the last step of each rank, and the ranks
// that gave up at a step (rank 0 waits for those before its exit tears the store down).
std::string arrival_key(uint64_t seq, int rank) {
  return "llmc/step/" + std::to_string(seq) + "/" + std::to_string(rank);
}
std::string last_step_key(int rank) { return "llmc/last/" + std::to_string(rank); }
std::string abort_key(uint64_t seq, int rank) {
  return "llmc/abort/" + std::to_string(seq) + "/" + std::to_string(rank);
}

std::string seconds_text(std::chrono::milliseconds ms) {
  std::ostringstream out;
  out << static_cast<double>(ms.count()) / 1000.0 << " s";
  return out.str();
}

// c10 errors carry a C++ backtrace in what(): keep the message's first line only.
std::string brief(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  if (auto eol = text.find('\n'); eol != std::string::npos) text.resize(eol);
  return text;
}

c10d::ReduceOp to_c10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum:
    case ReduceOp::Avg:  // Gloo has no AVG: summed, then divided here on every backend alike
      return c10d::ReduceOp::SUM;
    case ReduceOp::Min:
      return c10d::ReduceOp::MIN;
    case ReduceOp::Max:
      return c10d::ReduceOp::MAX;
  }
  throw Error("unknown reduce op");
}

std::chrono::milliseconds timeout_from_env(std::chrono::milliseconds fallback) {
  const char* value = std::getenv("LLMC_DIST_TIMEOUT");
  if (!value || !*value) return fallback;
  char* end = nullptr;
  const double seconds = std::strtod(value, &end);
  if (end == value || *end != '\0' || !std::isfinite(seconds) || seconds <= 0) {
    throw Error(std::string("environment variable LLMC_DIST_TIMEOUT='") + value +
                "' is not a positive number of seconds");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000.0)));
}

}  // namespace

std::string to_string(Backend backend) { return backend == Backend::Nccl ? "nccl" : "gloo"; }

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
};

ProcessGroup::ProcessGroup(Environment env, ProcessGroupOptions options)
    : env_(std::move(env)), options_(std::move(options)), device_(at::kCPU),
      backend_(Backend::Gloo), impl_(std::make_unique<Impl>()) {
  if (options_.device()) {
    device_ = *options_.device();
  } else if (torch::cuda::device_count() > 0) {
    device_ = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(env_.local_rank));
  }
  if (device_.is_cuda()) {
    backend_ = Backend::Nccl;
    if (!device_.has_index()) {
      device_ = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(env_.local_rank));
    }
  } else if (!device_.is_cpu()) {
    throw Error(env_.describe() + ": distributed collectives run on CPU (Gloo) or CUDA (NCCL), not " +
                device_.str());
  }
  const std::string where = env_.master_addr + ":" + std::to_string(env_.master_port);
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(env_.master_port);
    store_options.isServer = env_.rank == 0;
    store_options.numWorkers = env_.world_size;
    store_options.waitWorkers = true;
    store_options.timeout = options_.timeout();
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, store_options);
  } catch (const std::exception& e) {
    throw DistributedError(env_.describe() + ": could not " +
                           (env_.rank == 0 ? "host" : "reach") + " the TCPStore at " + where +
                           " within " + seconds_text(options_.timeout()) + " (MASTER_ADDR/" +
                           "MASTER_PORT; are all " + std::to_string(env_.world_size) +
                           " ranks started? a process hosts one group per port: create it once "
                           "and pass it on, e.g. OneshotOptions::process_group): " +
                           brief(e));
  }
  try {
    impl_->backend =
        backend_ == Backend::Nccl
            ? detail::make_nccl_backend(impl_->store, env_, options_.timeout(), device_.index())
            : detail::make_gloo_backend(impl_->store, env_, options_.timeout());
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError(env_.describe() + ": could not create the " + to_string(backend_) +
                           " process group (store " + where + "): " + brief(e));
  }
  barrier("process group created");
}

ProcessGroup::~ProcessGroup() = default;

std::shared_ptr<ProcessGroup> ProcessGroup::from_env(ProcessGroupOptions options) {
  Environment env = environment_from_env();
  if (!env.distributed()) return nullptr;
  options.timeout(timeout_from_env(options.timeout()));
  return std::make_shared<ProcessGroup>(std::move(env), std::move(options));
}

void ProcessGroup::barrier(const std::string& step, std::optional<std::chrono::milliseconds> timeout) {
  const uint64_t seq = next_step_++;
  const auto wait_for = timeout.value_or(options_.timeout());
  auto& store = *impl_->store;
  try {
    store.set(last_step_key(env_.rank), bytes("#" + std::to_string(seq) + " '" + step + "'"));
    store.set(arrival_key(seq, env_.rank), bytes(step));
    std::vector<std::string> keys;
    for (int r = 0; r < env_.world_size; ++r) keys.push_back(arrival_key(seq, r));
    store.wait(keys, wait_for);
  } catch (const std::exception& e) {
    fail(step, seq, "waited " + seconds_text(wait_for) + " for the other ranks: " + brief(e));
  }
}

void ProcessGroup::all_reduce(std::vector<at::Tensor>& tensors, const std::vector<ReduceOp>& ops,
                              const std::string& step) {
  if (ops.size() != tensors.size()) {
    throw Error(env_.describe() + ": step '" + step + "': " + std::to_string(tensors.size()) +
                " tensors but " + std::to_string(ops.size()) + " reduce ops");
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!tensors[i].defined()) throw Error(env_.describe() + ": step '" + step + "': undefined tensor");
    if (ops[i] == ReduceOp::Avg && !at::isFloatingType(tensors[i].scalar_type())) {
      throw Error(env_.describe() + ": step '" + step + "': AVG of a " +
                  std::string(c10::toString(tensors[i].scalar_type())) + " tensor");
    }
  }
  barrier(step);
  const uint64_t seq = next_step_ - 1;
  std::vector<at::Tensor> staged;
  staged.reserve(tensors.size());
  for (const auto& t : tensors) {
    staged.push_back(t.device() == device_ && t.is_contiguous() ? t : t.to(device_).contiguous());
  }
  try {
    std::vector<c10::intrusive_ptr<c10d::Work>> pending;
    pending.reserve(staged.size());
    for (size_t i = 0; i < staged.size(); ++i) {
      c10d::AllreduceOptions reduce;
      reduce.reduceOp = to_c10d(ops[i]);
      reduce.timeout = options_.timeout();
      std::vector<at::Tensor> one{staged[i]};
      pending.push_back(impl_->backend->allreduce(one, reduce));
    }
    for (auto& work : pending) work->wait(options_.timeout());
  } catch (const std::exception& e) {
    fail(step, seq, std::string("the ") + to_string(backend_) + " all-reduce failed: " + brief(e));
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (ops[i] == ReduceOp::Avg) staged[i].div_(env_.world_size);
    if (!staged[i].is_same(tensors[i])) tensors[i].copy_(staged[i]);
  }
}

void ProcessGroup::fail(const std::string& step, uint64_t seq, const std::string& what) {
  auto& store = *impl_->store;
  std::string message =
      env_.describe() + ": distributed step #" + std::to_string(seq) + " '" + step + "' failed: ";
  std::vector<int> arrived;
  try {
    std::string missing;
    for (int r = 0; r < env_.world_size; ++r) {
      if (store.check({arrival_key(seq, r)})) {
        arrived.push_back(r);
        continue;
      }
      const std::string last =
          store.check({last_step_key(r)}) ? text(store.get(last_step_key(r))) : "none";
      missing += (missing.empty() ? "" : "; ") + std::string("rank ") + std::to_string(r) +
                 " did not reach it (its last step: " + last + ")";
    }
    if (!missing.empty()) {
      message += missing + ": it exited, crashed or is stalled (" + what + ")";
    } else {
      message += what;
    }
    store.set(abort_key(seq, env_.rank), bytes("1"));
  } catch (const std::exception& e) {
    throw DistributedError(message + "the TCPStore hosted by rank 0 at " + env_.master_addr + ":" +
                           std::to_string(env_.master_port) +
                           " is unreachable: rank 0 exited, crashed or is stalled (" + what +
                           "; " + brief(e) + ")");
  }
  if (env_.rank == 0) {
    // Rank 0 hosts the store: give the other live ranks a moment to read it for their own
    // diagnosis before this process (and with it the store) goes away.
    std::vector<std::string> keys;
    for (int r : arrived) keys.push_back(abort_key(seq, r));
    const auto linger = std::min<std::chrono::milliseconds>(options_.timeout(), std::chrono::seconds(10));
    try {
      store.wait(keys, linger);
    } catch (const std::exception&) {
    }
  }
  throw DistributedError(message);
}

}  // namespace llmc::dist
