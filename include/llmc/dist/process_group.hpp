// A c10d process group for a distributed calibration run: a TCPStore hosted by rank 0 and
// LibTorch's own collective engine, ProcessGroupNCCL when the run's tensors live on CUDA (each
// rank on its LOCAL_RANK device) and ProcessGroupGloo on CPU (DESIGN §6).
//
// Every collective is a named *step*. Before it, each rank records in the store that it reached
// the step and waits (up to the timeout) for the others; a rank that died or stalls is thus
// named, with the last step it reached, in a DistributedError on every other rank instead of a
// hang inside the backend.
//
//   auto group = llmc::dist::ProcessGroup::from_env();   // nullptr for a world of one
//   group->all_reduce(tensors, llmc::ReduceOp::Sum, "imatrix sums of model.layers.0");
//   if (group->is_source()) save(...);
//   group->barrier("checkpoint saved", group->options().save_timeout());
#pragma once

#include <ATen/ATen.h>
#include <torch/arg.h>

#include <chrono>
#include <llmc/dist/environment.hpp>
#include <llmc/dist/reduce_op.hpp>
#include <llmc/error.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llmc::dist {

// A rank died, stalled past the timeout, or a collective failed. Every rank that sees it should
// stop (the driver exits non-zero).
class DistributedError : public Error {
 public:
  using Error::Error;
};

enum class Backend { Gloo, Nccl };
std::string to_string(Backend backend);  // "gloo", "nccl"

struct ProcessGroupOptions {
  // How long a rank waits for the others at one step (and inside one collective) before it
  // fails. from_env() reads LLMC_DIST_TIMEOUT (seconds) when set.
  TORCH_ARG(std::chrono::milliseconds, timeout) = std::chrono::minutes(5);
  // The wait at the barrier after saving, while rank 0 writes the checkpoint.
  TORCH_ARG(std::chrono::milliseconds, save_timeout) = std::chrono::minutes(30);
  // Where the collectives run: nullopt picks cuda:LOCAL_RANK when CUDA is available, else CPU.
  // A CUDA device selects NCCL, the CPU Gloo.
  TORCH_ARG(std::optional<at::Device>, device) = std::nullopt;
};

class ProcessGroup {
 public:
  // Connects to (rank 0: hosts) the TCPStore at MASTER_ADDR:MASTER_PORT and creates the backend;
  // then every rank meets at a first step, so a missing rank fails here. Throws
  // DistributedError naming the address, the rank and what failed.
  ProcessGroup(Environment env, ProcessGroupOptions options = {});
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  // The group torchrun's environment describes, or nullptr when it describes a world of one.
  static std::shared_ptr<ProcessGroup> from_env(ProcessGroupOptions options = {});

  const Environment& environment() const { return env_; }
  const ProcessGroupOptions& options() const { return options_; }
  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  // Rank 0: the one that writes files (upstream's is_source_process).
  bool is_source() const { return env_.rank == 0; }
  at::Device device() const { return device_; }
  Backend backend() const { return backend_; }

  // Waits until every rank reached `step` (a barrier through the store). On timeout throws
  // DistributedError naming the ranks that did not arrive and the last step each reached.
  void barrier(const std::string& step, std::optional<std::chrono::milliseconds> timeout = {});

  // barrier(step), then all-reduces tensors[i] in place with ops[i]: all issued before any is
  // waited for (upstream's async all_reduce + wait). Tensors off device() (or not contiguous)
  // go through a copy on device(). AVG divides the sum by world_size(). Every rank must pass
  // tensors of the same shapes and dtypes in the same order.
  void all_reduce(std::vector<at::Tensor>& tensors, const std::vector<ReduceOp>& ops,
                  const std::string& step);
  void all_reduce(std::vector<at::Tensor>& tensors, ReduceOp op, const std::string& step) {
    all_reduce(tensors, std::vector<ReduceOp>(tensors.size(), op), step);
  }

 private:
  struct Impl;
  [[noreturn]] void fail(const std::string& step, uint64_t seq, const std::string& what);

  Environment env_;
  ProcessGroupOptions options_;
  at::Device device_;
  Backend backend_;
  uint64_t next_step_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmc::dist
