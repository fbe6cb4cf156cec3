// Starting the ranks of a multi-process test the way torchrun does: W copies of a program, each
// with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1 and a free MASTER_PORT, stderr kept
// per rank; then waiting for them with a deadline (stragglers are SIGKILLed, never waited on
// forever).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace llmc::test {

struct RankProcess {
  int rank = 0;
  pid_t pid = -1;
  bool finished = false;
  int exit_code = -1;     // when it exited
  int signal = 0;         // when a signal ended it
  bool killed_by_us = false;
  std::chrono::steady_clock::time_point started;
  double seconds = 0.0;   // from launch to end
  std::filesystem::path stderr_path;
  std::string stderr_text() const;
  bool succeeded() const { return finished && signal == 0 && exit_code == 0; }
};

// A TCP port on 127.0.0.1 nobody listens on right now.
int free_port();

// Starts `world` ranks of `program args...` ("{rank}" in an argument becomes the rank: a test
// can thus see which rank wrote what); `env` is added to every rank's environment.
std::vector<RankProcess> launch_ranks(const std::string& program, const std::vector<std::string>& args,
                                      int world, const std::filesystem::path& log_dir,
                                      const std::map<std::string, std::string>& env = {});

// Waits until the ranks in `ranks` (all when empty) ended or `timeout` passed; those still
// running then are SIGKILLed (killed_by_us).
void wait_ranks(std::vector<RankProcess>& processes, std::chrono::seconds timeout,
                const std::vector<int>& ranks = {});

// "rank 0: exit 1 after 3.2 s\n<stderr>" for every rank: what a failed check prints.
std::string describe(const std::vector<RankProcess>& processes);

}  // namespace llmc::test
