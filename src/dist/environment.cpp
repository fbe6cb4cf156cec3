#include <llmc/dist/environment.hpp>
#include <llmc/error.hpp>

#include <charconv>
#include <cstdlib>

namespace llmc::dist {
namespace {

int parse_int(const std::string& name, const std::string& value, int min, int max) {
  int parsed = 0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, parsed);
  if (value.empty() || ec != std::errc() || ptr != end) {
    throw Error("environment variable " + name + "='" + value + "' is not an integer");
  }
  if (parsed < min || parsed > max) {
    throw Error("environment variable " + name + "=" + value + " is out of range (" +
                std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return parsed;
}

}  // namespace

std::string Environment::describe() const {
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size);
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
  };
}

Environment environment_from_env(const EnvLookup& lookup) {
  Environment env;
  const auto rank = lookup("RANK");
  const auto world = lookup("WORLD_SIZE");
  if (!rank && !world) return env;
  if (!rank || !world) {
    throw Error(std::string("environment variable ") + (rank ? "WORLD_SIZE" : "RANK") +
                " is not set but " + (rank ? "RANK" : "WORLD_SIZE") +
                " is: a distributed launch (torchrun) sets both");
  }
  env.world_size = parse_int("WORLD_SIZE", *world, 1, 1 << 20);
  env.rank = parse_int("RANK", *rank, 0, 1 << 20);
  if (env.rank >= env.world_size) {
    throw Error("environment variable RANK=" + *rank + " is not below WORLD_SIZE=" + *world);
  }
  env.local_rank = env.rank;
  if (auto local = lookup("LOCAL_RANK")) env.local_rank = parse_int("LOCAL_RANK", *local, 0, 1 << 20);
  if (auto addr = lookup("MASTER_ADDR")) {
    if (addr->empty()) throw Error("environment variable MASTER_ADDR is empty");
    env.master_addr = *addr;
  }
  if (auto port = lookup("MASTER_PORT")) env.master_port = parse_int("MASTER_PORT", *port, 1, 65535);
  return env;
}

}  // namespace llmc::dist
