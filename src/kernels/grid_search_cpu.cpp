// CPU fused grid search: at::parallel_for over scale groups, each group loaded once per round
// into a cache-resident buffer and that round's candidates evaluated on it by the
// instruction-set kernel ATen itself uses (grid_search_cpu_avx512.cpp / _avx2.cpp). The global
// patience rule needs every group's history, so the search runs in rounds that each end where
// the rule could next fire; the kernels record one bit per (group, candidate) improvement, and
// when the rule fires inside a round each group's range is that of its last improvement before
// the stop, which is what the reference's loop kept.
#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

// Without it at::parallel_for runs the whole search on the calling thread (see Dependencies.cmake).
#ifndef INTRA_OP_PARALLEL
#error "llmc must be compiled with ATen's parallel backend (OpenMP for the torch wheel)"
#endif

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

#include "grid_search_cpu_isa.hpp"
#include "grid_search_cpu_memo_build.hpp"
#include "grid_search_cpu_value_counts.hpp"
#include "grid_search_element.hpp"

namespace llmc::kernels {
namespace {

// The ranges of candidates [0, stop): the last improvement before `stop`, else the start.
// A group whose best candidate (its last improvement) lies before `stop` already holds that
// range; usually all but a few do, and this pass then only reads `best`.
template <ValueType V>
void truncate_to(const GridSearchProblem& problem, int64_t stop, const uint64_t* improved_bits,
                 const int32_t* best, void* best_min, void* best_max) {
  using Storage = typename StorageOf<V>::type;
  const auto* min0 = static_cast<const Storage*>(problem.initial_min);
  const auto* max0 = static_cast<const Storage*>(problem.initial_max);
  auto* min_out = static_cast<Storage*>(best_min);
  auto* max_out = static_cast<Storage*>(best_max);
  const int64_t words = improvement_words(problem.candidates);
  at::parallel_for(0, problem.groups, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t group = begin; group < end; ++group) {
      if (best[group] < stop) continue;
      const uint64_t* bits = improved_bits + group * words;
      int64_t last = -1;
      for (int64_t i = stop - 1; i >= 0 && last < 0; --i) {
        if ((bits[i >> 6] >> (i & 63)) & 1) last = i;
      }
      float low = static_cast<float>(min0[group]);
      float high = static_cast<float>(max0[group]);
      if (last >= 0) {
        low = shrink<V>(low, problem.grid, last);
        high = shrink<V>(high, problem.grid, last);
      }
      min_out[group] = static_cast<Storage>(low);
      max_out[group] = static_cast<Storage>(high);
    }
  });
}

// The end of the next round: far enough that the patience rule can fire in it if no group
// improves again (the candidate `patience` after the last improvement), and at least
// kMinRound candidates so that short rounds do not multiply the per-round cost.
//
// With a pow table each round costs about one and a half candidates' work of its own (the
// table pipeline's fill and drain passes, the group reload and qparams), so once many groups
// are still improving at the end of a round (`improving_at_end`: at least 1/64 of them and at
// least 16), the rule is taken not to be about to fire and the next round runs to the last
// candidate. That is only a guess about speed: should the rule fire inside the longer round
// after all, the candidates after the stop are ignored (truncate_to) and the result is the
// same. Without a table, rounds cost little and imatrix's rule fires soon after its groups
// stop improving (NVFP4 imatrix_mse measured 0.033 -> 0.039 s with the extension).
int64_t next_round_end(const GridSearchProblem& problem, int64_t evaluated,
                       int64_t last_improvement, int64_t improving_at_end) {
  constexpr int64_t kMinRound = 4;
  if (problem.patience == 0 && problem.patience_zero_means_never) return problem.candidates;
  if (uses_pow_table(problem) && improving_at_end >= std::max<int64_t>(16, problem.groups / 64)) {
    return problem.candidates;
  }
  const int64_t end =
      std::max(last_improvement + problem.patience + 1, evaluated + kMinRound);
  return std::min(end, problem.candidates);
}

// How many groups (a prefix) search every candidate before the others, or 0: for pow-table
// searches of at least kSampleMinGroups groups, one in kSampleFraction. See grid_search_cpu.
constexpr int64_t kSampleMinGroups = 256;
constexpr int64_t kSampleFraction = 16;
int64_t sample_groups(const GridSearchProblem& problem, bool clamp_bound) {
  if (clamp_bound || !uses_pow_table(problem) || problem.groups < kSampleMinGroups) return 0;
  return problem.groups / kSampleFraction;
}

// Whether every error term is >= 0, so that a partial sum bounds the total from below: errors
// are, and so are their products with importance that has no negative (or NaN) entry.
bool terms_nonnegative(const GridSearchProblem& problem) {
  if (problem.importance == nullptr) return true;
  const int64_t count = problem.importance_rows * problem.group_size;
  return std::all_of(problem.importance, problem.importance + count,
                     [](float value) { return value >= 0.0f; });
}

// The 16-bit patterns of a pow table's values, which are exactly representable in the
// 16-bit error dtype (fill_pow_table rounded them to it).
std::vector<uint16_t> pow_table_bits(ValueType error_type, const std::vector<float>& values) {
  std::vector<uint16_t> bits(values.size());
  for (size_t b = 0; b < values.size(); ++b) {
    bits[b] = error_type == ValueType::BFloat16 ? c10::BFloat16(values[b]).x
                                                : c10::Half(values[b]).x;
  }
  return bits;
}

// A single scale group (TENSOR strategy, or activations with one qparam): the reference's sum
// over the whole tensor has one output, so ATen's reduction (TensorIteratorReduce.cpp) runs on
// one thread below kAtenGrainSize values or with one thread, and otherwise splits it like
// at::parallel_for: min(threads, ceil(numel / grain)) contiguous chunks of ceil(numel / chunks)
// values, each summed (cascade_sum over its range) into its own slot of a buffer of
// get_num_threads() zeros in the sum's dtype, then the buffer summed once more. Each candidate
// is one such parallel pass; the patience rule is the reference's loop itself.
template <ValueType V>
void search_single_group(const GridSearchProblem& problem, const PowTable& table,
                         void* best_min, void* best_max) {
  using Storage = typename StorageOf<V>::type;
  const bool avx512 = problem.sleef_avx512;
  const RangeSumFn range_sum = avx512 ? range_sum_avx512(problem) : range_sum_avx2(problem);
  const auto values_sum = avx512 ? values_sum_avx512 : values_sum_avx2;
  const ValueType summed =
      problem.importance != nullptr || problem.error_in_fp32 ? ValueType::Float32 : V;
  // The sum's dtype (fp32, or the weight dtype V) stores each slot and the result.
  const auto store = [summed](float value) {
    return summed == ValueType::Float32 ? value : round_to<V>(value);
  };
  const int64_t numel = problem.group_size;
  const int64_t threads = at::get_num_threads();
  const bool two_pass = !(numel < kAtenGrainSize || threads == 1 || at::in_parallel_region());
  const int64_t chunks =
      two_pass ? std::min(threads, (numel + kAtenGrainSize - 1) / kAtenGrainSize) : 1;
  const int64_t chunk = (numel + chunks - 1) / chunks;
  std::vector<float> slots(static_cast<size_t>(two_pass ? threads : 1), 0.0f);
  // The chunk sums the value counts decide are not replayed.
  ValueCounts counts;
  const bool counted = counts.build(problem, chunks, chunk);
  const ValueTermsFn value_terms = avx512 ? value_terms_avx512(problem) : value_terms_avx2(problem);
  std::vector<uint8_t> decided(static_cast<size_t>(chunks), 0);
  const auto error_of = [&](int64_t candidate) {
    std::fill(decided.begin(), decided.end(), 0);
    int64_t decided_count = 0;
    if (counted) {
      decided_count =
          counts.chunk_sums(problem, table, value_terms, candidate, slots.data(), decided.data());
      if (problem.memo_group_rounds != nullptr) *problem.memo_group_rounds += decided_count;
    }
    if (decided_count < chunks) {
      at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
        std::vector<float> scratch(static_cast<size_t>(kTensorScratchFloats));
        for (int64_t c = first; c < last; ++c) {
          const int64_t begin = c * chunk;
          const int64_t end = std::min(numel, begin + chunk);
          if (begin < end && decided[c] == 0) {
            slots[c] = store(range_sum(problem, table, candidate, begin, end, scratch.data()));
          }
        }
      });
    }
    if (!two_pass) return slots[0];
    return store(values_sum(summed, slots.data(), static_cast<int64_t>(slots.size())));
  };
  float best_error = problem.best_error_init;
  int64_t best = -1;
  std::vector<uint8_t> improved(static_cast<size_t>(problem.candidates), 0);
  for (int64_t i = 0; i < problem.candidates; ++i) {
    const float error = error_of(i);
    if (problem.candidate_errors != nullptr) problem.candidate_errors[i] = error;
    improved[i] = error < best_error;  // strict: ties keep the wider range
    if (improved[i] != 0) {
      best_error = error;
      best = i;
    }
    if (patience_stop_within(improved.data(), i + 1, problem) >= 0) break;
  }
  const float min0 = static_cast<float>(static_cast<const Storage*>(problem.initial_min)[0]);
  const float max0 = static_cast<float>(static_cast<const Storage*>(problem.initial_max)[0]);
  static_cast<Storage*>(best_min)[0] =
      static_cast<Storage>(best < 0 ? min0 : shrink<V>(min0, problem.grid, best));
  static_cast<Storage*>(best_max)[0] =
      static_cast<Storage>(best < 0 ? max0 : shrink<V>(max0, problem.grid, best));
}

}  // namespace

bool group_ranges_cpu(const GridSearchProblem& problem, void* min_out, void* max_out) {
  const auto ranges = problem.sleef_avx512 ? group_ranges_avx512 : group_ranges_avx2;
  const int64_t grain = std::max<int64_t>(1, 32768 / problem.group_size);
  std::atomic<bool> every_finite{true};
  at::parallel_for(0, problem.groups, grain, [&](int64_t begin, int64_t end) {
    if (!ranges(problem, begin, end, min_out, max_out)) every_finite = false;
  });
  return every_finite;
}

void grid_search_cpu(const GridSearchProblem& problem, void* best_min, void* best_max) {
  const bool avx512 = problem.sleef_avx512;
  const SearchGroupsFn search =
      avx512 ? search_groups_avx512(problem) : search_groups_avx2(problem);
  std::vector<float> pow_values;
  std::vector<uint16_t> pow_bits;
  std::vector<uint32_t> pow_high_bits;
  PowTable table;
  if (uses_pow_table(problem)) {
    pow_values.resize(kPowTableSize);
    (avx512 ? fill_pow_table_avx512 : fill_pow_table_avx2)(problem, pow_values.data());
    pow_bits = pow_table_bits(problem.value_type, pow_values);
    table.values = pow_values.data();
    table.bits = pow_bits.data();
    pow_high_bits.assign(pow_bits.begin(), pow_bits.end());
    for (uint32_t& b : pow_high_bits) b <<= 16;
    table.high_bits = pow_high_bits.data();
  }
  ErrorMemoStorage memo;
  if (problem.groups > 1) table.memo = memo.build(problem, table);
  if (problem.groups == 1) {
    switch (problem.value_type) {
      case ValueType::Float32:
        return search_single_group<ValueType::Float32>(problem, table, best_min, best_max);
      case ValueType::Float16:
        return search_single_group<ValueType::Float16>(problem, table, best_min, best_max);
      case ValueType::BFloat16:
        return search_single_group<ValueType::BFloat16>(problem, table, best_min, best_max);
    }
  }
  const int64_t words = improvement_words(problem.candidates);
  std::vector<uint64_t> improved_bits(static_cast<size_t>(problem.groups * words), 0);
  std::vector<float> best_error(static_cast<size_t>(problem.groups), problem.best_error_init);
  std::vector<int32_t> best(static_cast<size_t>(problem.groups), -1);
  std::vector<uint8_t> improved(static_cast<size_t>(problem.candidates), 0);
  const int64_t grain = std::max<int64_t>(1, 16384 / problem.group_size);
  const int64_t scratch_bytes = cpu_scratch_bytes(problem);

  SearchRound round;
  round.best_error = best_error.data();
  round.best = best.data();
  round.improved_bits = improved_bits.data();
  round.abandon_losing = terms_nonnegative(problem);
  round.clamp_bound = round.abandon_losing && uses_clamp_bound(problem);
  // What groups' improvement bits say about `round`: the candidates at which some of them
  // improved (`any`), and how many of them improved at the round's last candidate.
  struct Improvements {
    std::vector<uint64_t> any;
    int64_t at_end = 0;
  };
  const auto gather = [&](int64_t begin, int64_t end, Improvements& into) {
    const int64_t end_word = (round.last_candidate - 1) >> 6;
    const uint64_t end_bit = uint64_t{1} << ((round.last_candidate - 1) & 63);
    for (int64_t index = begin; index < end; ++index) {
      const int64_t group = round.order != nullptr ? round.order[index] : index;
      for (int64_t w = 0; w < words; ++w) into.any[w] |= improved_bits[group * words + w];
      into.at_end += (improved_bits[group * words + end_word] & end_bit) != 0;
    }
  };
  const auto no_improvements = [&] {
    return Improvements{std::vector<uint64_t>(static_cast<size_t>(words), 0), 0};
  };
  // `round` on groups [first, last), and their improvements. Each thread gathers its own
  // groups' bits right after searching them, while they are in its cache: one thread
  // gathering them all afterwards had cost about 1% of a 1024x4096 imatrix_mse search.
  const auto run = [&](int64_t first, int64_t last) {
    Improvements found = no_improvements();
    std::mutex merge;
    at::parallel_for(first, last, grain, [&](int64_t begin, int64_t end) {
      std::vector<std::byte> scratch(static_cast<size_t>(scratch_bytes));
      search(problem, table, round, begin, end, scratch.data(), best_min, best_max);
      Improvements local = no_improvements();
      gather(begin, end, local);
      const std::lock_guard<std::mutex> lock(merge);
      for (int64_t w = 0; w < words; ++w) found.any[w] |= local.any[w];
      found.at_end += local.at_end;
    });
    return found;
  };
  // improved[i] for the candidates of `round`; returns how many groups improved at its last.
  const auto record = [&](const Improvements& found) {
    for (int64_t i = round.first_candidate; i < round.last_candidate; ++i) {
      improved[i] = (found.any[i >> 6] >> (i & 63)) & 1;
    }
    return found.at_end;
  };
  // A sample of the groups first, every candidate in one round. A candidate at which a sampled
  // group improved is one at which some group improved, so the rule fires no earlier than it
  // would on the sample alone (a gap of `patience` candidates without an improvement in all
  // groups is one in the sample too). If the sample alone never stops before the last
  // candidate, the other groups search every candidate in one round too, which saves the
  // rounds' own cost (for a pow table about one and a half candidates per round: the
  // pipeline's fill and drain, the group's reload and qparams). Otherwise their rounds start
  // with every candidate before the sample's stop, all of which the reference evaluates, with
  // the sample's improvements counted in every round's; the sample's candidates past the final
  // stop are ignored like any round's (truncate_to), so at most the sample's share of work is
  // spent for nothing.
  // Each group's best up to the reference's stop, where the rule fired before the end of the
  // last round (or, for a sample's groups, before the last candidate).
  const auto truncate = [&](int64_t stop) {
    switch (problem.value_type) {
      case ValueType::Float32:
        return truncate_to<ValueType::Float32>(problem, stop, improved_bits.data(), best.data(),
                                               best_min, best_max);
      case ValueType::Float16:
        return truncate_to<ValueType::Float16>(problem, stop, improved_bits.data(), best.data(),
                                               best_min, best_max);
      case ValueType::BFloat16:
        return truncate_to<ValueType::BFloat16>(problem, stop, improved_bits.data(), best.data(),
                                                best_min, best_max);
    }
  };
  // With an error memo every candidate in one round: reading a group's errors from it costs
  // about the same for 1 candidate as for 32, so rounds would only repeat that cost.
  if (table.memo != nullptr) {
    round.last_candidate = problem.candidates;
    round.order = memo.order();
    record(run(0, problem.groups));
    const int64_t stop = patience_stop_within(improved.data(), problem.candidates, problem);
    if (stop >= 0 && stop < problem.candidates) truncate(stop);
    return;
  }
  const int64_t first_group = sample_groups(problem, round.clamp_bound);
  int64_t evaluated_by_reference = 0;  // candidates the reference certainly evaluates
  if (first_group > 0) {
    round.last_candidate = problem.candidates;
    record(run(0, first_group));
    const int64_t sample_stop = patience_stop_within(improved.data(), problem.candidates, problem);
    if (sample_stop < 0 || sample_stop == problem.candidates) {
      run(first_group, problem.groups);
      return;
    }
    evaluated_by_reference = sample_stop;
    round.last_candidate = 0;
  }
  int64_t last_improvement = -1;
  int64_t improving_at_end = 0;  // groups that improved at the last round's last candidate
  int64_t stop = -1;
  while (round.last_candidate < problem.candidates && stop < 0) {
    round.first_candidate = round.last_candidate;
    round.last_candidate =
        round.clamp_bound
            ? problem.candidates
            : std::max(next_round_end(problem, round.first_candidate, last_improvement,
                                      improving_at_end),
                       evaluated_by_reference);
    Improvements found = run(first_group, problem.groups);
    gather(0, first_group, found);  // the sample's bits count in every round
    improving_at_end = record(found);
    for (int64_t i = round.first_candidate; i < round.last_candidate; ++i) {
      if (improved[i] != 0) last_improvement = i;
    }
    stop = patience_stop_within(improved.data(), round.last_candidate, problem);
  }
  // The reference stopped before the end of the last round (or, for the sample's groups, before
  // the last candidate): keep each group's best up to it.
  if (stop < 0 || stop == (first_group > 0 ? problem.candidates : round.last_candidate)) return;
  truncate(stop);
}

}  // namespace llmc::kernels
