#include <llmc/dist/rank_partition.hpp>
#include <llmc/error.hpp>

#include <string>

namespace llmc::dist {

RankRange rank_partition(size_t n, int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    throw Error("rank_partition: rank " + std::to_string(rank) + " is not in a world of " +
                std::to_string(world_size));
  }
  // Integer floor(N·r/W) in 128 bits: N·r cannot overflow for any realistic N.
  const auto bound = [&](int r) {
    return static_cast<size_t>(static_cast<unsigned __int128>(n) * static_cast<unsigned>(r) /
                               static_cast<unsigned>(world_size));
  };
  return {bound(rank), bound(rank + 1)};
}

}  // namespace llmc::dist
