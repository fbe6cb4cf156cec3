// Building a search's error memo (ErrorMemo, grid_search_cpu_isa.hpp) on the portable side: which
// scale blocks and which values it needs, its storage, and the decision whether it pays. The
// entries themselves are computed by the AVX-512 kernel file.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "grid_search_cpu_isa.hpp"

namespace llmc::kernels {

class ErrorMemoStorage {
 public:
  // Builds the memo for `problem` (whose pow table is `pow_table`) where uses_error_memo holds
  // and problem.error_memo asks for it (Auto: where the estimated cost of its entries is small
  // against the search's and it fits kErrorMemoAutoBytes). Returns the memo, or null.
  const ErrorMemo* build(const GridSearchProblem& problem, const PowTable& pow_table);
  // After build returned a memo: every group, ordered by the first block of its window (those
  // without a window last), for SearchRound::order.
  const int32_t* order() const { return order_.data(); }

 private:
  std::vector<int32_t> row_offset_;
  std::vector<int32_t> block_column_;
  // The entries: 2 MiB aligned, and left uninitialised (every entry a read can select is
  // filled; see build).
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<uint16_t, Free> pows_;
  std::vector<int32_t> order_;
  ErrorMemo memo_;
};

// The most memory a memo may take: under Auto (where the search's errors are cheaper than
// entries that spill out of the caches) and at all.
constexpr int64_t kErrorMemoAutoBytes = int64_t{32} << 20;
constexpr int64_t kErrorMemoMaxBytes = int64_t{256} << 20;

}  // namespace llmc::kernels
