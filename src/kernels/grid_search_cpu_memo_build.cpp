// The error memo's portable side: the groups' windows decide which scale blocks are stored, the
// weight's distinct bf16 patterns which rows; then the AVX-512 kernel fills the entries.
#include "grid_search_cpu_memo_build.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include <sys/mman.h>

namespace llmc::kernels {
namespace {

// Under Auto the memo is built only where its entries are at most this fraction of the
// search's (value, candidate) pairs. An entry costs about what the table pipeline spends on a
// pair (an element's error and a pow lookup), and reading a pair from the memo about a fifth of
// that.
constexpr int64_t kAutoWorkRatio = 2;
// Below this many (value, candidate) pairs a search is too short for Auto to try.
constexpr int64_t kAutoMinPairs = int64_t{1} << 20;

}  // namespace

const ErrorMemo* ErrorMemoStorage::build(const GridSearchProblem& problem,
                                         const PowTable& pow_table) {
  if (problem.error_memo == ErrorMemoUse::Never || !uses_error_memo(problem) ||
      pow_table.bits == nullptr) {
    return nullptr;
  }
  const bool automatic = problem.error_memo == ErrorMemoUse::Auto;
  const int64_t pairs = problem.groups * problem.group_size * problem.candidates;
  if (automatic && pairs < kAutoMinPairs) return nullptr;

  // Each group's windows, and the blocks they need: each window's first block and the next
  // kErrorMemoWindow / kErrorMemoBlock - 1 (so that a window is whole stored blocks).
  memo_.symmetric = problem.quant.symmetric;
  memo_.q_min = problem.quant.q_min;
  const int64_t groups = problem.groups;
  std::vector<int32_t> keys(static_cast<size_t>(groups * kErrorMemoWindows));
  at::parallel_for(0, groups, 1024, [&](int64_t begin, int64_t end) {
    error_memo_windows_avx512(problem, memo_, begin, end, keys.data());
  });
  constexpr int64_t kWindowBlocks = kErrorMemoWindow / kErrorMemoBlock;
  std::vector<uint8_t> needed(static_cast<size_t>(kErrorMemoBlockKeys), 0);
  for (const int32_t key : keys) {
    // (A window's first block lies below kErrorMemoPatternEnd, so the rest share its zero point.)
    for (int64_t b = key; key >= 0 && b < key + kWindowBlocks; ++b) needed[b] = 1;
  }
  block_column_.assign(static_cast<size_t>(kErrorMemoBlockKeys), -1);
  std::vector<int32_t> blocks;
  for (int64_t b = 0; b < kErrorMemoBlockKeys; ++b) {
    if (needed[b] == 0) continue;
    block_column_[b] = static_cast<int32_t>(blocks.size() * kErrorMemoBlock);
    blocks.push_back(static_cast<int32_t>(b));
  }
  if (blocks.empty()) return nullptr;

  // The distinct bf16 patterns among the values: one row each.
  constexpr int64_t kPatterns = int64_t{1} << 16;
  std::vector<uint8_t> present(static_cast<size_t>(kPatterns), 0);
  std::mutex merge;
  const auto* observed = static_cast<const uint16_t*>(problem.observed);
  at::parallel_for(0, groups * problem.group_size, int64_t{1} << 18, [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> local(static_cast<size_t>(kPatterns), 0);
    uint8_t* seen = local.data();
    int64_t k = begin;
    // Four patterns per 64-bit load: the stores are the limit. (Flagging them in the ranges
    // pass instead, while the values are in its cache, measured slower: the stores, not the
    // weight's read from memory, set this pass's pace.)
    for (; k + 4 <= end; k += 4) {
      uint64_t four;
      std::memcpy(&four, observed + k, sizeof four);
      seen[four & 0xFFFF] = 1;
      seen[(four >> 16) & 0xFFFF] = 1;
      seen[(four >> 32) & 0xFFFF] = 1;
      seen[four >> 48] = 1;
    }
    for (; k < end; ++k) seen[observed[k]] = 1;
    const std::lock_guard<std::mutex> lock(merge);
    for (int64_t p = 0; p < kPatterns; ++p) present[p] |= local[p];
  });
  row_offset_.assign(static_cast<size_t>(kPatterns), 0);
  std::vector<float> row_values;
  for (int64_t p = 0; p < kPatterns; ++p) {
    if (present[p] == 0) continue;
    row_offset_[p] = static_cast<int32_t>(row_values.size());  // the row, for now
    const uint32_t bits = static_cast<uint32_t>(p) << 16;
    float value;
    std::memcpy(&value, &bits, sizeof value);
    row_values.push_back(value);
  }
  const auto rows = static_cast<int64_t>(row_values.size());
  const int64_t padded_rows = (rows + 15) / 16 * 16;
  row_values.resize(static_cast<size_t>(padded_rows), 0.0f);

  const auto columns = static_cast<int64_t>(blocks.size()) * kErrorMemoBlock;
  const int64_t row_words = (columns + 31) / 32 * 32;
  const int64_t bytes = (padded_rows * row_words + kErrorMemoWindow) * 2;
  if (bytes > (automatic ? kErrorMemoAutoBytes : kErrorMemoMaxBytes)) return nullptr;
  if (automatic && rows * columns * kAutoWorkRatio > pairs) return nullptr;

  for (int32_t& offset : row_offset_) offset *= static_cast<int32_t>(row_words);

  // The entries, then the padding after the last row. Not zeroed: a fresh allocation's first
  // touch costs a page fault and the kernel's zeroing anyway (for 4 KiB pages, 1024x4096 W4
  // asym's 11.7 MB took 0.3 ms to zero and its fill 1.35 ms), so the fill makes that touch, and
  // the memory is asked for in 2 MiB pages. Entries no stored block covers (a row's columns past
  // the last block, up to the multiple of 32; the padding) are read by a window's loads but never
  // selected by its permute (whose masks zero every lane not a candidate's), so they may hold
  // anything; the padding is zeroed all the same.
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t entries = static_cast<size_t>(padded_rows * row_words);
  const size_t padding = static_cast<size_t>(kErrorMemoWindow);
  const size_t allocation = ((entries + padding) * sizeof(uint16_t) + kHugePage - 1) / kHugePage * kHugePage;
  void* storage = nullptr;
  if (posix_memalign(&storage, kHugePage, allocation) != 0) return nullptr;
  pows_.reset(static_cast<uint16_t*>(storage));
  madvise(storage, allocation, MADV_HUGEPAGE);  // a hint: without it, 4 KiB pages
  uint16_t* base = pows_.get();
  std::memset(base + entries, 0, padding * sizeof(uint16_t));

  ErrorMemoLayout layout;
  layout.blocks = blocks.data();
  layout.block_column = block_column_.data();
  layout.row_values = row_values.data();
  layout.padded_rows = padded_rows;
  layout.pows = base;
  layout.row_words = row_words;
  layout.symmetric = problem.quant.symmetric;
  at::parallel_for(0, static_cast<int64_t>(blocks.size()), 1, [&](int64_t begin, int64_t end) {
    fill_error_memo_avx512(problem, pow_table, layout, begin, end);
  });

  // The groups by their first window (a counting sort on its stored block, in key order; no
  // window: after the last).
  const auto stored = static_cast<int64_t>(blocks.size());
  std::vector<int64_t> starts(static_cast<size_t>(stored + 2), 0);
  const auto bucket = [&](int64_t group) {
    const int32_t key = keys[group * kErrorMemoWindows];
    return key < 0 ? stored : block_column_[key] / kErrorMemoBlock;
  };
  for (int64_t group = 0; group < groups; ++group) ++starts[bucket(group) + 1];
  for (int64_t b = 0; b <= stored; ++b) starts[b + 1] += starts[b];
  order_.resize(static_cast<size_t>(groups));
  for (int64_t group = 0; group < groups; ++group) {
    order_[starts[bucket(group)]++] = static_cast<int32_t>(group);
  }

  memo_.row_offset = row_offset_.data();
  memo_.block_column = block_column_.data();
  memo_.pows = base;
  memo_.row_words = row_words;
  return &memo_;
}

}  // namespace llmc::kernels
