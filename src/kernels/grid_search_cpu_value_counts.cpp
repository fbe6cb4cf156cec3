// Counting a single group's values per chunk, and deciding its chunk sums from the counts (see
// the header).
#include "grid_search_cpu_value_counts.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "grid_search_sum_bound.hpp"

namespace llmc::kernels {
namespace {

constexpr int64_t kPatterns = int64_t{1} << 16;

// Each element's 16-bit pattern counted into `counts` (kPatterns entries). Two tables, for
// alternate elements, so that a run of equal values does not make every increment wait for the
// previous one's store.
void count_patterns(const uint16_t* values, int64_t size, uint32_t* counts, uint32_t* spare) {
  int64_t k = 0;
  for (; k + 2 <= size; k += 2) {
    ++counts[values[k]];
    ++spare[values[k + 1]];
  }
  if (k < size) ++counts[values[k]];
  for (int64_t p = 0; p < kPatterns; ++p) counts[p] += spare[p];
}

// A 16-bit pattern of type T as the float the kernels load it as.
float pattern_value(ValueType type, uint16_t pattern) {
  if (type == ValueType::BFloat16) {
    c10::BFloat16 value;
    value.x = pattern;
    return static_cast<float>(value);
  }
  c10::Half value;
  value.x = pattern;
  return static_cast<float>(value);
}

std::optional<float> decided_for(ValueType type, double exact, double relative_error) {
  return type == ValueType::BFloat16 ? decided_rounding<ValueType::BFloat16>(exact, relative_error)
                                     : decided_rounding<ValueType::Float16>(exact, relative_error);
}

}  // namespace

bool ValueCounts::build(const GridSearchProblem& problem, int64_t chunks, int64_t chunk) {
  const int64_t numel = problem.group_size;
  if (problem.groups != 1 || problem.error_memo == ErrorMemoUse::Never ||
      problem.value_type == ValueType::Float32 || problem.importance != nullptr ||
      problem.error_in_fp32 || chunk >= (int64_t{1} << 32)) {
    return false;
  }
  if (problem.error_memo == ErrorMemoUse::Auto && numel < kValueCountsMinSize) return false;
  chunks_ = chunks;
  const auto* patterns = static_cast<const uint16_t*>(problem.observed);
  std::vector<uint32_t> histograms(static_cast<size_t>(chunks * kPatterns), 0);
  at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
    std::vector<uint32_t> spare(static_cast<size_t>(kPatterns));
    for (int64_t c = first; c < last; ++c) {
      const int64_t begin = std::min(numel, c * chunk);
      const int64_t end = std::min(numel, begin + chunk);
      std::fill(spare.begin(), spare.end(), 0u);
      count_patterns(patterns + begin, end - begin, histograms.data() + c * kPatterns,
                     spare.data());
    }
  });

  // ATen's scalar pow tails (ScalarTails: only for the general exponent) are summed one by one,
  // with their own terms: they leave the counts.
  std::vector<int64_t> tail_elements;
  if (problem.pow.kind == PowKind::General) {
    for (int64_t r = 0; r < problem.scalar_pow_range_count; ++r) {
      const ScalarRange& range = problem.scalar_pow_ranges[r];
      for (int64_t k = range.begin; k < range.end && k < numel; ++k) {
        --histograms[static_cast<size_t>(k / chunk * kPatterns + patterns[k])];
        tail_elements.push_back(k);
      }
    }
  }

  // The distinct values over all chunks (and the tail elements').
  std::vector<int32_t> index(static_cast<size_t>(kPatterns), -1);
  for (int64_t p = 0; p < kPatterns; ++p) {
    for (int64_t c = 0; c < chunks; ++c) {
      if (histograms[static_cast<size_t>(c * kPatterns + p)] != 0) {
        index[p] = static_cast<int32_t>(distinct_++);
        break;
      }
    }
  }
  for (const int64_t k : tail_elements) {
    if (index[patterns[k]] < 0) index[patterns[k]] = static_cast<int32_t>(distinct_++);
  }
  // Each candidate's terms cost about a replayed element per distinct value, and its chunk
  // sums a multiply-add per distinct value in each chunk (in parallel over the chunks): where
  // that is not well below a replay of the chunk's elements (weights of nearly all-distinct
  // values), Auto replays.
  if (problem.error_memo == ErrorMemoUse::Auto && distinct_ * 4 > chunk) {
    distinct_ = 0;
    return false;
  }
  const int64_t padded = cpu_padded_size(std::max<int64_t>(distinct_, 1));
  values_.assign(static_cast<size_t>(padded), 0.0f);
  counts_.assign(static_cast<size_t>(chunks * padded), 0.0);
  for (int64_t p = 0; p < kPatterns; ++p) {
    const int32_t d = index[p];
    if (d < 0) continue;
    values_[d] = pattern_value(problem.value_type, static_cast<uint16_t>(p));
    for (int64_t c = 0; c < chunks; ++c) {
      counts_[c * padded + d] = histograms[static_cast<size_t>(c * kPatterns + p)];
    }
  }
  for (const int64_t k : tail_elements) {
    tail_values_.push_back(index[patterns[k]]);
    tail_chunks_.push_back(k / chunk);
  }
  relative_error_.resize(static_cast<size_t>(chunks));
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = std::min(numel, c * chunk);
    const int64_t length = std::min(numel, begin + chunk) - begin;
    relative_error_[c] = cascade_sum_relative_error(
        cascade_sum_depth_bound(length), distinct_ + static_cast<int64_t>(tail_elements.size()));
  }
  terms_.resize(static_cast<size_t>(padded));
  bits_.resize(static_cast<size_t>(padded));
  tail_terms_.resize(tail_values_.size());
  return true;
}

int64_t ValueCounts::chunk_sums(const GridSearchProblem& problem, const PowTable& table,
                                ValueTermsFn terms, int64_t candidate, float* slots,
                                uint8_t* decided) {
  const ValueTerms request{values_.data(),      distinct_,          tail_values_.data(),
                           static_cast<int64_t>(tail_values_.size()), terms_.data(),
                           tail_terms_.data(),  bits_.data()};
  if (!terms(problem, table, candidate, request)) return 0;
  const auto padded = static_cast<int64_t>(values_.size());
  std::atomic<int64_t> count{0};
  // One chunk per thread where the products are many enough to pay for the parallel region.
  const int64_t grain = chunks_ * distinct_ >= kValueCountsMinSize ? 1 : chunks_;
  at::parallel_for(0, chunks_, grain, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) {
      const double* counts = counts_.data() + c * padded;
      double exact = 0.0;
      for (int64_t d = 0; d < distinct_; ++d) exact += counts[d] * terms_[d];
      for (size_t t = 0; t < tail_values_.size(); ++t) {
        if (tail_chunks_[t] == c) exact += tail_terms_[t];
      }
      if (const std::optional<float> sum =
              decided_for(problem.value_type, exact, relative_error_[c])) {
        slots[c] = *sum;
        decided[c] = 1;
        count.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });
  return count.load();
}

}  // namespace llmc::kernels
