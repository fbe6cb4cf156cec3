// Which calibration samples a rank keeps: upstream's get_rank_partition (LC reference §5.2),
// a contiguous slice [floor(N·r/W), floor(N·(r+1)/W)), disjoint across ranks and covering all N.
//
//   auto mine = llmc::dist::partition_for_rank(batches, env.rank, env.world_size);
#pragma once

#include <cstddef>
#include <vector>

namespace llmc::dist {

struct RankRange {
  size_t begin = 0;
  size_t end = 0;
  size_t size() const { return end - begin; }
};

// Throws llmc::Error when rank is not in [0, world_size).
RankRange rank_partition(size_t n, int rank, int world_size);

template <typename T>
std::vector<T> partition_for_rank(const std::vector<T>& items, int rank, int world_size) {
  const RankRange range = rank_partition(items.size(), rank, world_size);
  return std::vector<T>(items.begin() + static_cast<std::ptrdiff_t>(range.begin),
                        items.begin() + static_cast<std::ptrdiff_t>(range.end));
}

}  // namespace llmc::dist
