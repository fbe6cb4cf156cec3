// Built with -mavx2 -mf16c -ffp-contract=off (tests/CMakeLists.txt), like the AVX2 kernel.
#include "support/scalar_tails.hpp"

#include "kernels/grid_search_cpu_avx2.hpp"
#include "kernels/grid_search_cpu_group.hpp"

namespace llmc::test {

std::vector<std::vector<int64_t>> replay_scalar_tails(
    const std::vector<std::pair<int64_t, int64_t>>& tails, bool general,
    const std::vector<std::pair<int64_t, int64_t>>& windows) {
  std::vector<kernels::ScalarRange> ranges;
  for (const auto& [begin, end] : tails) ranges.push_back({begin, end});
  kernels::GridSearchProblem problem;
  problem.pow.kind = general ? kernels::PowKind::General : kernels::PowKind::Square;
  problem.scalar_pow_ranges = ranges.data();
  problem.scalar_pow_range_count = static_cast<int64_t>(ranges.size());
  kernels::ScalarTails cursor(problem);
  std::vector<std::vector<int64_t>> visited;
  for (const auto& [begin, end] : windows) {
    cursor.seek(begin, end);
    std::vector<int64_t> elements;
    cursor.for_each([&, begin = begin](int64_t k) { elements.push_back(begin + k); });
    if (cursor.any() != !elements.empty()) elements.push_back(-1);  // any() must agree
    visited.push_back(elements);
  }
  return visited;
}

}  // namespace llmc::test
