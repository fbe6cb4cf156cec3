// The seam between the portable CPU driver (grid_search_cpu.cpp: threads, patience, final
// ranges) and the per-instruction-set group kernels (grid_search_cpu_avx512.cpp,
// grid_search_cpu_avx2.cpp). Plain C++ only: see grid_search_problem.hpp for why.
#pragma once

#include <cstdint>

#include "grid_search_problem.hpp"

namespace llmc::kernels {

// One round of the search: candidates [first_candidate, last_candidate) of every group. The
// driver runs rounds until the patience rule fires, so that, as in the reference, candidates
// after the stop are (mostly) never evaluated.
struct SearchRound {
  int64_t first_candidate = 0;
  int64_t last_candidate = 0;
  // Per group, carried from round to round: the best error so far (first round:
  // problem.best_error_init) and its candidate (-1: the initial range).
  float* best_error = nullptr;
  int32_t* best = nullptr;
  // Per group, improvement_words(problem.candidates) words: bit i is set when candidate i
  // strictly improved on the group's best so far (zeroed by the driver).
  uint64_t* improved_bits = nullptr;
};

// Runs `round` on groups [begin, end) and writes each group's best range so far into
// best_min / best_max. `scratch` holds cpu_scratch_floats(...) floats for the thread.
// `pow_table`: nullptr, or the kPowTableSize entries of fill_pow_table (uses_pow_table).
using SearchGroupsFn = void (*)(const GridSearchProblem& problem, const float* pow_table,
                                const SearchRound& round, int64_t begin, int64_t end,
                                float* scratch, void* best_min, void* best_max);

// The instantiation for the problem's weight dtype, error dtype and quantization grid.
SearchGroupsFn search_groups_avx512(const GridSearchProblem& problem);
SearchGroupsFn search_groups_avx2(const GridSearchProblem& problem);

// A 16-bit error dtype has only 2^15 non-negative values: when its pow is Sleef's (the general
// exponent), the kernels look |error|^norm up in a table indexed by the value's bits, filled
// here by the same Sleef call ATen makes. A table lookup is ~10x cheaper than powf.
inline bool uses_pow_table(const GridSearchProblem& problem) {
  return problem.pow.kind == PowKind::General &&
         !(problem.error_in_fp32 || problem.value_type == ValueType::Float32);
}
constexpr int64_t kPowTableSize = int64_t{1} << 15;
void fill_pow_table_avx512(const GridSearchProblem& problem, float* table);
void fill_pow_table_avx2(const GridSearchProblem& problem, float* table);

// Groups are padded to whole 16-float vectors; four such buffers per thread (values, errors,
// importance row, pow bases of ATen's scalar tails), then four per-candidate arrays (range and
// qparams of every candidate of the current group), then the pow table's batch: the error bits
// and their pows of lookup_batch_candidates candidates (about 16 KiB each, to stay in L1).
constexpr int64_t kCpuPad = 16;
inline int64_t cpu_padded_size(int64_t count) { return (count + kCpuPad - 1) / kCpuPad * kCpuPad; }
constexpr int64_t kLookupTargetFloats = 2048;
inline int64_t lookup_batch_candidates(int64_t padded) {
  return padded >= kLookupTargetFloats ? 1 : kLookupTargetFloats / padded;
}
// Between the two lookup buffers, so that bits[j] and pows[j] are not 4 KiB apart (a load
// and a store at addresses equal modulo 4 KiB falsely wait on each other).
constexpr int64_t kLookupSkew = 48;
inline int64_t lookup_floats(int64_t padded) { return lookup_batch_candidates(padded) * padded; }
inline int64_t cpu_scratch_floats(int64_t group_size, int64_t candidates) {
  const int64_t padded = cpu_padded_size(group_size);
  return 4 * padded + 4 * cpu_padded_size(candidates) + 2 * lookup_floats(padded) + kLookupSkew;
}
inline int64_t improvement_words(int64_t candidates) { return (candidates + 63) / 64; }

}  // namespace llmc::kernels
