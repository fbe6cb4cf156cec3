// Where this process sits in a distributed run, read from torchrun's environment variables
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). Without them the world is one rank.
//
//   llmc::dist::Environment env = llmc::dist::environment_from_env();
//   if (env.distributed()) { ... }
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace llmc::dist {

struct Environment {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;  // torchrun's default

  bool distributed() const { return world_size > 1; }
  // "rank 1 of 3" (used in every distributed error message).
  std::string describe() const;
};

// Looks an environment variable up; nullopt when unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

// With neither RANK nor WORLD_SIZE set: a world of one. Otherwise RANK and WORLD_SIZE are
// required, LOCAL_RANK defaults to RANK, MASTER_ADDR to 127.0.0.1 and MASTER_PORT to 29500.
// Throws llmc::Error naming the variable for a malformed or inconsistent value
// (e.g. "RANK=3 is not below WORLD_SIZE=2").
Environment environment_from_env(const EnvLookup& lookup = process_environment());

}  // namespace llmc::dist
