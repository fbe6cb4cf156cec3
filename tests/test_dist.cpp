// Distributed calibration (DESIGN §6, LC §5.2–5.4): torchrun's environment, upstream's rank
// partition, and multi-process runs on CPU with Gloo over loopback started by the test itself
// (tests/dist/dist_worker.cpp is one rank): 2 and 3 ranks give the single-process importance and
// qparams bit for bit, only rank 0 writes, and a rank that dies or stalls makes the others fail
// within the timeout with a message naming it.
#include <signal.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <filesystem>
#include <llmc/dist/environment.hpp>
#include <llmc/dist/rank_partition.hpp>
#include <llmc/error.hpp>
#include <llmc/io/safetensors.hpp>
#include <map>
#include <optional>
#include <string>

#include "support/catch.hpp"
#include "support/error_of.hpp"
#include "support/launch.hpp"
#include "support/oracle.hpp"

namespace fs = std::filesystem;
using llmc::test::error_of;
using llmc::test::describe;
using llmc::test::temp_dir;
using llmc::test::launch_ranks;
using llmc::test::RankProcess;
using llmc::test::wait_ranks;

namespace {

llmc::dist::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const std::string kWorker = LLMC_DIST_WORKER_PATH;

// The worker's calibrate mode over `world` ranks (1: a plain process, no environment).
struct CalibrationRun {
  fs::path out, rank_out;
  std::vector<RankProcess> ranks;
};

CalibrationRun calibrate(int world, const std::string& tag, std::vector<std::string> extra = {},
                         std::map<std::string, std::string> env = {},
                         std::chrono::seconds timeout = std::chrono::seconds(240)) {
  CalibrationRun run;
  const fs::path dir = temp_dir("dist_" + tag);
  run.out = dir / "out";
  run.rank_out = dir / "ranks";
  std::vector<std::string> args{"calibrate", run.out.string(), run.rank_out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  if (world == 1) {
    // No torchrun variables at all: the single-process reference.
    const std::string command = "env -u RANK -u WORLD_SIZE '" + kWorker + "' calibrate '" +
                                run.out.string() + "' '" + run.rank_out.string() + "' 2> '" +
                                (dir / "single.stderr").string() + "'";
    RankProcess p;
    p.finished = true;
    p.exit_code = std::system(command.c_str()) == 0 ? 0 : 1;
    p.stderr_path = dir / "single.stderr";
    run.ranks.push_back(p);
    return run;
  }
  run.ranks = launch_ranks(kWorker, args, world, dir / "logs", env);
  wait_ranks(run.ranks, timeout);
  return run;
}

}  // namespace

TEST_CASE("without torchrun variables the world is one rank") {
  const auto env = llmc::dist::environment_from_env(env_of({}));
  CHECK(env.rank == 0);
  CHECK(env.world_size == 1);
  CHECK_FALSE(env.distributed());
}

TEST_CASE("torchrun variables give rank, world, local rank and the store address") {
  const auto env = llmc::dist::environment_from_env(env_of(
      {{"RANK", "2"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "node0"},
       {"MASTER_PORT", "29611"}}));
  CHECK(env.rank == 2);
  CHECK(env.world_size == 4);
  CHECK(env.local_rank == 0);
  CHECK(env.master_addr == "node0");
  CHECK(env.master_port == 29611);
  CHECK(env.distributed());
  CHECK(env.describe() == "rank 2 of 4");
  // LOCAL_RANK defaults to RANK, the address to loopback and torchrun's port.
  const auto plain = llmc::dist::environment_from_env(env_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}}));
  CHECK(plain.local_rank == 1);
  CHECK(plain.master_addr == "127.0.0.1");
  CHECK(plain.master_port == 29500);
}

TEST_CASE("malformed torchrun variables are errors naming the variable") {
  using M = std::map<std::string, std::string>;
  CHECK_THAT(error_of([] { llmc::dist::environment_from_env(env_of(M{{"RANK", "0"}})); }),
             Catch::Contains("WORLD_SIZE is not set"));
  CHECK_THAT(error_of([] {
               llmc::dist::environment_from_env(env_of(M{{"RANK", "2"}, {"WORLD_SIZE", "2"}}));
             }),
             Catch::Contains("RANK=2 is not below WORLD_SIZE=2"));
  CHECK_THAT(error_of([] {
               llmc::dist::environment_from_env(env_of(M{{"RANK", "x"}, {"WORLD_SIZE", "2"}}));
             }),
             Catch::Contains("RANK='x' is not an integer"));
  CHECK_THAT(error_of([] {
               llmc::dist::environment_from_env(
                   env_of(M{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}));
             }),
             Catch::Contains("MASTER_PORT=70000 is out of range"));
}

TEST_CASE("rank partition is upstream's floor(N*r/W) slicing: contiguous, disjoint, complete") {
  using llmc::dist::rank_partition;
  CHECK(rank_partition(8, 0, 3).begin == 0);
  CHECK(rank_partition(8, 0, 3).end == 2);
  CHECK(rank_partition(8, 1, 3).begin == 2);
  CHECK(rank_partition(8, 1, 3).end == 5);
  CHECK(rank_partition(8, 2, 3).begin == 5);
  CHECK(rank_partition(8, 2, 3).end == 8);
  for (size_t n : {0, 1, 2, 5, 7, 64, 1001}) {
    for (int w : {1, 2, 3, 4, 7, 8}) {
      size_t next = 0;
      for (int r = 0; r < w; ++r) {
        const auto range = rank_partition(n, r, w);
        CHECK(range.begin == next);
        CHECK(range.begin == static_cast<size_t>(std::floor(double(n) * r / w)));
        next = range.end;
      }
      CHECK(next == n);
    }
  }
  const std::vector<int> items{0, 1, 2, 3, 4};
  CHECK(llmc::dist::partition_for_rank(items, 1, 2) == std::vector<int>{2, 3, 4});
  CHECK_THAT(error_of([] { rank_partition(4, 2, 2); }), Catch::Contains("rank 2 is not in a world of 2"));
}

TEST_CASE("2 and 3 Gloo ranks all-reduce importance and activation ranges to the single-process "
          "result: identical sums, counts and qparams on every rank, only rank 0 writes") {
  const auto single = calibrate(1, "single");
  REQUIRE(single.ranks[0].succeeded());
  const auto reference = llmc::io::load_safetensors(single.out / "result.safetensors");
  REQUIRE(reference.count("fc1.imatrix_sum") == 1);
  REQUIRE(reference.count("fc2.weight_scale") == 1);
  REQUIRE(reference.count("fc1.input_scale") == 1);
  CHECK(reference.at("fc1.imatrix_count").item<int64_t>() == 8 * 2 * 8);
  // The oneshot recipe run forwarded all 8 batches in each of its two calibration epochs.
  CHECK(reference.at("batches_seen").item<int64_t>() == 16);

  for (int world : {2, 3}) {
    INFO("world " << world);
    const auto run = calibrate(world, "w" + std::to_string(world));
    INFO(describe(run.ranks));
    for (const auto& p : run.ranks) REQUIRE(p.succeeded());
    // Only rank 0 wrote the output directory, holding exactly the single-process result.
    std::vector<std::string> written;
    for (const auto& entry : fs::directory_iterator(run.out)) written.push_back(entry.path().filename().string());
    CHECK(written == std::vector<std::string>{"result.safetensors"});
    const auto result = llmc::io::load_safetensors(run.out / "result.safetensors");
    int64_t batches = 0;
    for (int rank = 0; rank < world; ++rank) {
      const auto mine = llmc::io::load_safetensors(run.rank_out / ("rank" + std::to_string(rank) + ".safetensors"));
      // Each rank forwarded only its slice (twice: the gatherer's and the recipe's epochs).
      const auto slice = llmc::dist::rank_partition(8, rank, world);
      CHECK(mine.at("batches_seen").item<int64_t>() == 2 * static_cast<int64_t>(slice.size()));
      batches += mine.at("batches_seen").item<int64_t>();
      for (const auto& [name, expected] : reference) {
        if (name == "batches_seen") continue;
        INFO("rank " << rank << " tensor " << name);
        REQUIRE(mine.count(name) == 1);
        LLMC_CHECK_BIT_EQUAL(mine.at(name), expected, "rank " << rank << " " << name);
      }
      CHECK(mine.size() == reference.size());
    }
    CHECK(batches == 16);
    for (const auto& [name, expected] : reference) {
      if (name != "batches_seen") LLMC_CHECK_BIT_EQUAL(result.at(name), expected, name);
    }
  }
}

TEST_CASE("llmc::oneshot finds torchrun's environment by itself: 2 ranks give the single-process "
          "qparams") {
  const auto single = calibrate(1, "single_plain");
  REQUIRE(single.ranks[0].succeeded());
  const auto reference = llmc::io::load_safetensors(single.out / "result.safetensors");
  const auto run = calibrate(2, "transparent", {"--transparent"});
  INFO(describe(run.ranks));
  for (const auto& p : run.ranks) REQUIRE(p.succeeded());
  const auto result = llmc::io::load_safetensors(run.out / "result.safetensors");
  // No capture run: the qparams and the batch count only.
  CHECK(result.count("fc1.imatrix_sum") == 0);
  CHECK(result.at("batches_seen").item<int64_t>() == 2 * 4);
  int compared = 0;
  for (const auto& [name, expected] : reference) {
    if (name == "batches_seen" || name.find("imatrix") != std::string::npos) continue;
    REQUIRE(result.count(name) == 1);
    LLMC_CHECK_BIT_EQUAL(result.at(name), expected, name);
    ++compared;
  }
  CHECK(compared == 8);  // weight and input scale / zero point of fc1 and fc2
  CHECK(fs::exists(run.rank_out / "rank1.safetensors"));
}

TEST_CASE("observer statistics all-reduce with each accumulator's op (sum, min, max, and avg over "
          "the ranks holding a value) and a rank without a value receives the result") {
  const int world = 3;
  const fs::path dir = temp_dir("dist_sync");
  auto ranks = launch_ranks(kWorker, {"sync", (dir / "out").string()}, world, dir / "logs");
  wait_ranks(ranks, std::chrono::seconds(120));
  INFO(describe(ranks));
  for (const auto& p : ranks) REQUIRE(p.succeeded());
  const auto t = llmc::io::load_safetensors(dir / "out" / "sync.safetensors");
  const auto f = [](std::vector<float> v) { return torch::tensor(v, torch::kFloat); };
  // a: min over ranks of [-1-r, r], max of [1+r, 10-r].
  LLMC_CHECK_BIT_EQUAL(t.at("a.min_vals"), f({-3, 0}), "a.min_vals");
  LLMC_CHECK_BIT_EQUAL(t.at("a.max_vals"), f({3, 10}), "a.max_vals");
  // b: held by ranks 0 and 2 only (min -3r, max 2r); rank 0 lacks nothing, gets the global.
  LLMC_CHECK_BIT_EQUAL(t.at("b.min_vals"), f({-6}), "b.min_vals");
  LLMC_CHECK_BIT_EQUAL(t.at("b.max_vals"), f({4}), "b.max_vals");
  // ema (minmax, AVG): held by ranks 0 and 1: mean of [-r, -2] and [r, 2+r].
  LLMC_CHECK_BIT_EQUAL(t.at("ema.min_vals"), f({-0.5, -2}), "ema.min_vals");
  LLMC_CHECK_BIT_EQUAL(t.at("ema.max_vals"), f({0.5, 2.5}), "ema.max_vals");
  // half: bf16 min of -0.5-r and max of 0.25r, still bf16.
  LLMC_CHECK_BIT_EQUAL(t.at("half.min_vals"), torch::tensor({-2.5}, torch::kBFloat16), "half.min_vals");
  LLMC_CHECK_BIT_EQUAL(t.at("half.max_vals"), torch::tensor({0.5}, torch::kBFloat16), "half.max_vals");
  // imatrix: sums of [r, 2r+1, 0.5] and of counts 10(r+1).
  LLMC_CHECK_BIT_EQUAL(t.at("imatrix._imatrix_sum"), f({3, 9, 1.5}), "imatrix._imatrix_sum");
  CHECK(t.at("imatrix._imatrix_count").item<int64_t>() == 60);
}

TEST_CASE("a rank killed mid-calibration makes the others exit non-zero within the timeout, "
          "naming it") {
  // 3 ranks; rank 1 is SIGKILLed at the first batch of its slice.
  const auto run = calibrate(3, "kill", {"--die-rank", "1", "--die-at-batch", "0"},
                             {{"LLMC_DIST_TIMEOUT", "5"}}, std::chrono::seconds(90));
  INFO(describe(run.ranks));
  CHECK(run.ranks[1].signal == SIGKILL);
  CHECK_FALSE(run.ranks[1].killed_by_us);
  for (int r : {0, 2}) {
    const auto& p = run.ranks[static_cast<size_t>(r)];
    CHECK_FALSE(p.killed_by_us);
    CHECK(p.finished);
    CHECK(p.exit_code == 1);
    CHECK(p.seconds < 60);
    CHECK_THAT(p.stderr_text(), Catch::Contains("rank 1 did not reach it"));
    CHECK_THAT(p.stderr_text(), Catch::Contains("IMatrixGatherer epoch end"));
  }
  CHECK_FALSE(fs::exists(run.out / "result.safetensors"));
}

TEST_CASE("rank 0 killed mid-calibration makes the others exit non-zero naming rank 0") {
  const auto run = calibrate(2, "kill0", {"--die-rank", "0", "--die-at-batch", "1"},
                             {{"LLMC_DIST_TIMEOUT", "5"}}, std::chrono::seconds(90));
  INFO(describe(run.ranks));
  CHECK(run.ranks[0].signal == SIGKILL);
  const auto& p = run.ranks[1];
  CHECK_FALSE(p.killed_by_us);
  CHECK(p.exit_code == 1);
  CHECK_THAT(p.stderr_text(), Catch::Contains("rank 0"));
  CHECK_FALSE(fs::exists(run.out / "result.safetensors"));
}

TEST_CASE("a stalled rank makes the others exit non-zero after the timeout, naming it and its "
          "last step") {
  const fs::path dir = temp_dir("dist_stall");
  auto ranks = launch_ranks(kWorker,
                            {"calibrate", (dir / "out").string(), (dir / "ranks").string(),
                             "--stall-rank", "1", "--stall-at-batch", "1"},
                            2, dir / "logs", {{"LLMC_DIST_TIMEOUT", "3"}});
  wait_ranks(ranks, std::chrono::seconds(60), {0});
  wait_ranks(ranks, std::chrono::seconds(0));  // the stalled rank: killed here
  INFO(describe(ranks));
  CHECK_FALSE(ranks[0].killed_by_us);
  CHECK(ranks[0].exit_code == 1);
  CHECK(ranks[0].seconds < 45);
  CHECK_THAT(ranks[0].stderr_text(), Catch::Contains("rank 1 did not reach it"));
  CHECK_THAT(ranks[0].stderr_text(), Catch::Contains("its last step: #0 'process group created'"));
  CHECK(ranks[1].killed_by_us);
}
