// The seam between the portable CPU driver (grid_search_cpu.cpp: threads, patience, final
// ranges) and the per-instruction-set group kernels (grid_search_cpu_avx512.cpp,
// grid_search_cpu_avx2.cpp). Plain C++ only: see grid_search_problem.hpp for why.
#pragma once

#include <cstdint>

#include "grid_search_problem.hpp"

namespace llmc::kernels {

// Searches groups [begin, end) over problem.candidates candidates without early stop. Writes
// each group's best range (over all candidates) into best_min / best_max, and into
// improved_bits + group * improvement_words(candidates) a bit per candidate at which the group
// strictly improved. `scratch` holds cpu_scratch_floats(...) floats for the thread.
// `pow_table`: nullptr, or the kPowTableSize entries of fill_pow_table (uses_pow_table).
using SearchGroupsFn = void (*)(const GridSearchProblem& problem, const float* pow_table,
                                int64_t begin, int64_t end, float* scratch, uint64_t* improved_bits,
                                void* best_min, void* best_max);

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
// qparams of every candidate of the current group).
constexpr int64_t kCpuPad = 16;
inline int64_t cpu_padded_size(int64_t count) { return (count + kCpuPad - 1) / kCpuPad * kCpuPad; }
inline int64_t cpu_scratch_floats(int64_t group_size, int64_t candidates) {
  return 4 * cpu_padded_size(group_size) + 4 * cpu_padded_size(candidates);
}
inline int64_t improvement_words(int64_t candidates) { return (candidates + 63) / 64; }

}  // namespace llmc::kernels
