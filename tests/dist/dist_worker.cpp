// llmc_dist_worker: one rank of a multi-process test (tests/test_dist.cpp starts W of them with
// torchrun's environment variables). Modes:
//   calibrate OUT RANK_OUT [--die-rank R --die-at-batch B | --stall-rank R --stall-at-batch B |
//                           --transparent]
//     oneshot of an fc1 → relu → fc2 model of llmc::nn::Linear with IMatrixGatherer + an imatrix
//     W4 g8 / static-minmax int8 input QuantizationModifier on 8 batches. Rank 0 (or the single
//     process) writes OUT/result.safetensors: the gathered importance sums/counts and every
//     module's qparams. Every rank writes RANK_OUT/rank<r>.safetensors with its own copy, to
//     prove all ranks computed the same. A dying rank kills itself (SIGKILL) at its shard's batch
//     B; a stalling one sleeps there.
//   sync OUT
//     sync_observer_statistics over rank-dependent statistics (SUM, MIN, MAX, AVG), some held by
//     only some ranks; rank 0 writes OUT/sync.safetensors.
// Data are dyadic (weights k/8, inputs k/2) so fp32 sums are exact in any order: a run over W
// ranks must then equal the single-process run bit for bit.
#include <torch/torch.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <llmc/dist/process_group.hpp>
#include <llmc/dist/sync_statistics.hpp>
#include <llmc/entrypoints/oneshot.hpp>
#include <llmc/io/safetensors.hpp>
#include <llmc/modifiers/imatrix_gatherer.hpp>
#include <llmc/modifiers/quantization_modifier.hpp>
#include <llmc/nn/linear.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/observers/observer.hpp>
#include <llmc/recipe/recipe.hpp>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

struct MLPImpl : torch::nn::Module {
  MLPImpl() {
    fc1 = register_module("fc1", llmc::nn::Linear(llmc::nn::LinearOptions(16, 32).bias(false)));
    fc2 = register_module("fc2", llmc::nn::Linear(llmc::nn::LinearOptions(32, 16).bias(false)));
    torch::manual_seed(7);
    torch::NoGradGuard no_grad;
    fc1->weight.copy_(torch::randint(-2, 3, {32, 16}) / 8.0);
    fc2->weight.copy_(torch::randint(-2, 3, {16, 32}) / 8.0);
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::relu(fc1(x))); }
  llmc::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(MLP);

std::vector<torch::Tensor> batches() {
  torch::manual_seed(11);
  std::vector<torch::Tensor> result;
  for (int i = 0; i < 8; ++i) result.push_back(torch::randint(-2, 3, {2, 8, 16}) / 2.0);
  return result;
}

constexpr const char* kRecipe = R"(recipe:
  - IMatrixGatherer: {targets: [Linear]}
  - QuantizationModifier:
      config_groups:
        group_0:
          targets: [Linear]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: group, group_size: 8,
                    observer: imatrix_mse}
          input_activations: {num_bits: 8, type: int, symmetric: true, strategy: tensor,
                              dynamic: false, observer: static_minmax}
)";

// Keeps a copy of the sums it hands to the modules, before finalize deletes them.
class CapturingGatherer : public llmc::IMatrixGatherer {
 public:
  using IMatrixGatherer::IMatrixGatherer;
  std::map<std::string, torch::Tensor> captured;

 protected:
  void on_calibration_end(llmc::State& state, const llmc::Event& event) override {
    IMatrixGatherer::on_calibration_end(state, event);
    for (const auto& [name, linear] : targeted_modules()) {
      captured[name + ".imatrix_sum"] = linear->attributes.at(llmc::kIMatrixSum).clone();
      captured[name + ".imatrix_count"] = linear->attributes.at(llmc::kIMatrixCount).clone();
    }
  }
};

int option(const std::vector<std::string>& args, const std::string& name, int fallback) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == name) return std::stoi(args[i + 1]);
  }
  return fallback;
}

int calibrate(const std::vector<std::string>& args) {
  const std::filesystem::path out = args.at(1), rank_out = args.at(2);
  const int die_rank = option(args, "--die-rank", -1), die_at = option(args, "--die-at-batch", -1);
  const int stall_rank = option(args, "--stall-rank", -1),
            stall_at = option(args, "--stall-at-batch", -1);
  // --transparent: no group of our own; llmc::oneshot finds torchrun's environment itself (and
  // the gatherer capture run, which needs the group before oneshot, is skipped).
  const bool transparent = std::find(args.begin(), args.end(), "--transparent") != args.end();
  MLP model;
  std::shared_ptr<llmc::dist::ProcessGroup> group =
      transparent ? nullptr : llmc::dist::ProcessGroup::from_env();
  int rank = group ? group->rank() : 0;
  int batch = 0;
  llmc::ModelForward forward = [&](const torch::Tensor& x) {
    if (rank == die_rank && batch == die_at) std::raise(SIGKILL);
    if (rank == stall_rank && batch == stall_at) std::this_thread::sleep_for(std::chrono::hours(1));
    ++batch;
    model->forward(x);
  };

  // The importance as the gatherer all-reduced it (session API, to look before finalize).
  auto gatherer = std::make_shared<CapturingGatherer>();
  if (!transparent) {
    llmc::Session session;
    session.state().model = model.ptr();
    session.state().forward = forward;
    session.state().calib_data = batches();
    llmc::oneshot(session, {gatherer}, llmc::OneshotOptions().process_group(group));
  }
  // The whole recipe through the plain entry point: it finds the group in the environment
  // itself only when none is passed, and a process hosts one store per port, so pass it.
  batch = 0;
  const auto result = llmc::oneshot(model.ptr(), forward, batches(), llmc::Recipe::from_string(kRecipe),
                                    llmc::OneshotOptions().process_group(group));
  if (transparent) {
    group = result.process_group;
    rank = group ? group->rank() : 0;
  }

  llmc::io::TensorMap tensors = gatherer->captured;
  for (const auto& [name, linear] : llmc::nn::named_linears(*model)) {
    for (const auto& item : linear->named_parameters(false)) {
      if (item.key() != "weight") tensors[name + "." + item.key()] = item.value().detach().clone();
    }
  }
  tensors["batches_seen"] = torch::tensor({static_cast<int64_t>(batch)});
  std::filesystem::create_directories(rank_out);
  llmc::io::save_safetensors(rank_out / ("rank" + std::to_string(rank) + ".safetensors"), tensors);
  if (!group || group->is_source()) {
    std::filesystem::create_directories(out);
    llmc::io::save_safetensors(out / "result.safetensors", tensors);
  }
  if (group) group->barrier("result saved", group->options().save_timeout());
  return 0;
}

llmc::QuantizationArgs static_args() {
  return llmc::QuantizationArgs().num_bits(8).symmetric(true).validated();
}

// Rank-dependent statistics; rank 1 holds no "b" min/max and the last rank no EMA values;
// "half" holds bf16 ranges.
int sync(const std::vector<std::string>& args) {
  const std::filesystem::path out = args.at(1);
  auto group = llmc::dist::ProcessGroup::from_env();
  if (!group) throw llmc::Error("sync mode needs a distributed launch");
  const double r = group->rank();
  const int last = group->world_size() - 1;
  auto a = llmc::load_observer("static_minmax", "input", static_args());
  auto b = llmc::load_observer("static_minmax", "input", static_args());
  auto ema = llmc::load_observer("minmax", "input", static_args());
  auto half = llmc::load_observer("static_minmax", "input", static_args());  // bf16 ranges
  auto imatrix = llmc::load_observer("imatrix_mse", "weight", static_args());
  a->statistics()["min_vals"] = torch::tensor({-1.0 - r, r}, torch::kFloat);
  a->statistics()["max_vals"] = torch::tensor({1.0 + r, 10.0 - r}, torch::kFloat);
  if (group->rank() != 1) {
    b->statistics()["min_vals"] = torch::tensor({-3.0 * r}, torch::kFloat);
    b->statistics()["max_vals"] = torch::tensor({2.0 * r}, torch::kFloat);
  }
  if (group->rank() != last) {
    ema->statistics()["min_vals"] = torch::tensor({-r, -2.0}, torch::kFloat);
    ema->statistics()["max_vals"] = torch::tensor({r, 2.0 + r}, torch::kFloat);
  }
  half->statistics()["min_vals"] = torch::tensor({-0.5 - r}, torch::kBFloat16);
  half->statistics()["max_vals"] = torch::tensor({0.25 * r}, torch::kBFloat16);
  imatrix->statistics()[llmc::kIMatrixSum] = torch::tensor({r, 2.0 * r + 1.0, 0.5}, torch::kFloat);
  imatrix->statistics()[llmc::kIMatrixCount] = torch::tensor(int64_t(10) * (group->rank() + 1));
  llmc::dist::sync_observer_statistics(
      group.get(),
      {{"a", a.get()}, {"b", b.get()}, {"ema", ema.get()}, {"half", half.get()}, {"imatrix", imatrix.get()}},
      "sync test");
  llmc::io::TensorMap tensors;
  for (const auto& [name, obs] : std::map<std::string, llmc::Observer*>{
           {"a", a.get()}, {"b", b.get()}, {"ema", ema.get()}, {"half", half.get()}, {"imatrix", imatrix.get()}}) {
    for (const auto& [key, value] : obs->statistics()) tensors[name + "." + key] = value;
  }
  if (group->is_source()) {
    std::filesystem::create_directories(out);
    llmc::io::save_safetensors(out / "sync.safetensors", tensors);
  }
  group->barrier("sync saved");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (!args.empty() && args[0] == "calibrate") return calibrate(args);
    if (!args.empty() && args[0] == "sync") return sync(args);
    std::cerr << "usage: llmc_dist_worker calibrate|sync OUT ...\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "llmc_dist_worker: error: " << e.what() << std::endl;
    // A peer may be gone: skip destructors that could wait on it.
    std::fflush(nullptr);
    std::_Exit(1);
  }
}
