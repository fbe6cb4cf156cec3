// The seam between the portable CPU driver (grid_search_cpu.cpp: threads, patience, final
// ranges) and the per-instruction-set group kernels (grid_search_cpu_avx512.cpp,
// grid_search_cpu_avx2.cpp). Plain C++ only: see grid_search_problem.hpp for why.
#pragma once

#include <cstddef>
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
  // Whether a candidate may be abandoned once its partial error reaches the group's best: exact
  // only when every summed term is >= 0, so not with negative importance.
  bool abandon_losing = false;
  // Whether search_groups skips candidates whose clamp bound reaches the best (uses_clamp_bound
  // and abandon_losing). The driver then runs every candidate in one round: past the best, a
  // candidate mostly costs only its bound, less than another round's pass over the groups.
  bool clamp_bound = false;
  // Null, or the order in which the groups are searched: [begin, end) are then the groups
  // order[begin] .. order[end - 1]. An error memo's search takes its groups by window, so that
  // a thread's reads stay within a few of the memo's columns.
  const int32_t* order = nullptr;
};

// The error memo: for int grids on bf16 weights with bf16 errors (the default memoryless_mse /
// mse on a bf16 model), a candidate's error terms depend only on the value and the candidate's
// qparams: its bf16 scale and, on asymmetric grids, its zero point (an integer on the grid). A
// bf16 tensor has few distinct values (at most 2^16), and its groups' candidates share few
// (scale, zero point) pairs. So the pow of every (value, qparams) pair that can occur is
// computed once, by the group kernel's own code (fill_error_memo), into a row per distinct value
// with a column per pair, and search_groups reads a group's candidates from it
// (memo_candidate_errors) instead of running the table pipeline: a pair of 64-byte loads and a
// word permute give a value's pows for 16 candidates, where the pipeline computes and looks up
// each (value, candidate) pair on its own.
//
// Columns come in blocks of kErrorMemoBlock consecutive scale patterns of one zero point (a
// block's key: zero-point index * kErrorMemoPatternBlocks + pattern / kErrorMemoBlock); only
// blocks that some group's candidates need are stored, in key order. A group's candidates of
// one zero point must lie within kErrorMemoWindow columns of the start of their smallest
// scale's block (a window, which the reads permute from), and a group may have
// kErrorMemoWindows zero points. A window's blocks are all stored, so they are adjacent
// columns. memoryless_mse's 20 candidates (p from 1 down to 0.81) span up to 49 scale patterns
// (where the largest scale is a power of two: patterns are linear in the significand), which
// with a block's offset of up to 7 fits the 64; their zero points (asymmetric) mostly repeat one
// value, where the rounding of -min / scale sits near a half, two.
constexpr int64_t kErrorMemoBlock = 8;
constexpr int64_t kErrorMemoWindow = 64;
constexpr int64_t kErrorMemoWindows = 2;
constexpr int64_t kErrorMemoMaxCandidates = 32;  // two vectors of 16 lanes
// Zero-point indices (zero point - q_min): the asymmetric grids of at most 16 levels.
constexpr int64_t kErrorMemoZeroPoints = 16;
// Scale patterns from here on are not indexed: the window from one would reach inf.
constexpr int32_t kErrorMemoPatternEnd = 0x7F80 - static_cast<int32_t>(kErrorMemoWindow);
constexpr int64_t kErrorMemoPatternBlocks = (int64_t{1} << 16) / kErrorMemoBlock;
constexpr int64_t kErrorMemoBlockKeys = kErrorMemoZeroPoints * kErrorMemoPatternBlocks;

struct ErrorMemo {
  // Per bf16 pattern: where its value's row starts in `pows` (row * row_words); every value of
  // the search's weight has a row (other patterns: 0).
  const int32_t* row_offset = nullptr;
  const int32_t* block_column = nullptr;  // per block key: its first column, or -1
  // Row r's column c: the pow's bf16 pattern (kErrorMemoWindow words of padding after the last
  // row, so that every window's loads stay inside).
  const uint16_t* pows = nullptr;
  int64_t row_words = 0;  // a multiple of 32: rows start 64-byte aligned
  bool symmetric = true;  // (then every candidate's zero-point index is 0)
  float q_min = 0.0f;
};

// What fill_error_memo fills: the stored blocks' keys in key order (the column of blocks[b] is
// block_column[blocks[b]]), each row's value (padded_rows of them, a multiple of 16, zeros past
// the last row), and the entries.
struct ErrorMemoLayout {
  const int32_t* blocks = nullptr;
  const int32_t* block_column = nullptr;
  const float* row_values = nullptr;
  int64_t padded_rows = 0;
  uint16_t* pows = nullptr;
  int64_t row_words = 0;
  bool symmetric = true;
};

// fill_pow_table's table in three forms: each pow as a float (the lanes layout's lookups), as
// its 16-bit pattern in the error dtype (the group layout's: half the cache footprint), and
// that pattern shifted into the high half of 32 bits (the group layout's second element of a
// pair, or-ed into the first's). All null when the problem has no table.
struct PowTable {
  const float* values = nullptr;
  const uint16_t* bits = nullptr;
  const uint32_t* high_bits = nullptr;
  // The error memo where the driver built one (grid_search_cpu_memo_build.hpp), else null.
  const ErrorMemo* memo = nullptr;
};

// Runs `round` on groups [begin, end) and writes each group's best range so far into
// best_min / best_max. `scratch` holds cpu_scratch_bytes(problem) bytes for the thread.
// `pow_table`: empty, or the kPowTableSize entries of fill_pow_table (uses_pow_table).
using SearchGroupsFn = void (*)(const GridSearchProblem& problem, const PowTable& pow_table,
                                const SearchRound& round, int64_t begin, int64_t end,
                                std::byte* scratch, void* best_min, void* best_max);

// The instantiation for the problem's weight dtype, error dtype and quantization grid.
SearchGroupsFn search_groups_avx512(const GridSearchProblem& problem);
SearchGroupsFn search_groups_avx2(const GridSearchProblem& problem);

// A single scale group (problem.groups == 1), whose error sum ATen splits across threads: one
// candidate's error terms over the group's elements [begin, end), summed as ATen's cascade_sum
// sums that range (grid_search_cpu_tensor.hpp). Returns the fp32 accumulator, before ATen
// stores it in the sum's dtype. `scratch` holds kTensorScratchFloats floats.
using RangeSumFn = float (*)(const GridSearchProblem& problem, const PowTable& pow_table,
                             int64_t candidate, int64_t begin, int64_t end, float* scratch);
constexpr int64_t kTensorScratchFloats = 4 * 1024;
RangeSumFn range_sum_avx512(const GridSearchProblem& problem);
RangeSumFn range_sum_avx2(const GridSearchProblem& problem);
// A single group's error terms for a list of its distinct values instead of its elements (the
// value counts, grid_search_cpu_value_counts.hpp): terms[d] is values[d]'s term as range_sum
// computes it for an element holding that value where ATen's pow is vectorised, tail_terms[t]
// values[tail_values[t]]'s where ATen's pow ran its scalar tail. values, terms and bits hold
// cpu_padded_size(count) floats (values padded with zeros; bits is scratch).
struct ValueTerms {
  const float* values = nullptr;
  int64_t count = 0;
  const int32_t* tail_values = nullptr;
  int64_t tail_count = 0;
  float* terms = nullptr;
  float* tail_terms = nullptr;
  int32_t* bits = nullptr;
};
// False, computing nothing, where the candidate's scale is inf (noted as range_sum notes it).
using ValueTermsFn = bool (*)(const GridSearchProblem& problem, const PowTable& pow_table,
                              int64_t candidate, const ValueTerms& terms);
ValueTermsFn value_terms_avx512(const GridSearchProblem& problem);
ValueTermsFn value_terms_avx2(const GridSearchProblem& problem);
// ATen's cascade_sum of `count` values of `type` held as floats: the fp32 accumulator.
float values_sum_avx512(ValueType type, const float* values, int64_t count);
float values_sum_avx2(ValueType type, const float* values, int64_t count);

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

// Groups [begin, end)'s min and max (group_ranges_cpu) on each instruction set; whether every
// value of those groups is finite.
bool group_ranges_avx512(const GridSearchProblem& problem, int64_t begin, int64_t end,
                         void* min_out, void* max_out);
bool group_ranges_avx2(const GridSearchProblem& problem, int64_t begin, int64_t end,
                       void* min_out, void* max_out);

// A thread's scratch: arrays of one element type each, carved one after another (64-byte
// aligned) out of a byte buffer the driver allocates. With a null base it only adds up the
// size, so sizing and carving share one layout.
class ScratchArena {
 public:
  explicit ScratchArena(std::byte* base = nullptr) : base_(base) {}
  template <class T>
  T* take(int64_t count) {
    T* taken = base_ == nullptr ? nullptr : reinterpret_cast<T*>(base_ + used_);
    used_ += (count * static_cast<int64_t>(sizeof(T)) + 63) / 64 * 64;
    return taken;
  }
  int64_t used() const { return used_; }

 private:
  std::byte* base_;
  int64_t used_ = 0;
};

// Groups are padded to whole 16-float vectors.
constexpr int64_t kCpuPad = 16;
inline int64_t cpu_padded_size(int64_t count) { return (count + kCpuPad - 1) / kCpuPad * kCpuPad; }
// Between the two lookup buffers, so that bits[j] and pows[j] are not 4 KiB apart (a load
// and a store at addresses equal modulo 4 KiB falsely wait on each other).
constexpr int64_t kLookupSkew = 48;

// The lanes layout's pow-table lookup buffers: errors' 16-bit patterns and their pows,
// kLookupSkew floats apart.
struct LookupBuffers {
  int32_t* bits;
  float* pows;

  static LookupBuffers carve(ScratchArena& arena, int64_t count) {
    LookupBuffers s{};
    s.bits = arena.take<int32_t>(count);
    arena.take<float>(kLookupSkew);
    s.pows = arena.take<float>(count);
    return s;
  }
};

// search_groups' buffers: the group's values, errors, importance row and the pow bases of
// ATen's scalar tails (padded), every candidate's qparams, and for the pow table the error
// patterns and the looked-up pows of two candidates each (one being written, one read).
struct GroupScratch {
  float* values;
  float* errors;
  float* importance;
  float* tail_bases;
  float* candidate_p;  // the shrink factor p of every candidate
  float* candidate_scale;
  float* candidate_zero_point;
  float* candidate_bound;  // the clamp bound of each candidate's error (search_groups)
  // search_groups' table pipeline: each candidate's error, or its sum's 8 accumulator lanes,
  // until the round's end
  float* candidate_error;
  float* candidate_lanes;
  float* candidate_sum;  // the error memo's fp32 sums, before the rounding to bf16
  int32_t* patterns[2];
  uint16_t* pow_bits[2];
  // The table pipeline's candidates, where repeated qparams are skipped (last, so that the
  // buffers above keep their offsets).
  int32_t* evaluated;

  static GroupScratch carve(ScratchArena& arena, int64_t group_size, int64_t candidates) {
    const int64_t padded = cpu_padded_size(group_size);
    GroupScratch s{};
    s.values = arena.take<float>(padded);
    s.errors = arena.take<float>(padded);
    s.importance = arena.take<float>(padded);
    s.tail_bases = arena.take<float>(padded);
    // Room for a whole vector of candidates from any first candidate on.
    const int64_t padded_candidates = candidates + kCpuPad;
    s.candidate_p = arena.take<float>(padded_candidates);
    s.candidate_scale = arena.take<float>(padded_candidates);
    s.candidate_zero_point = arena.take<float>(padded_candidates);
    s.candidate_bound = arena.take<float>(padded_candidates);
    s.candidate_error = arena.take<float>(padded_candidates);
    s.candidate_lanes = arena.take<float>(padded_candidates * 8);
    s.candidate_sum = arena.take<float>(padded_candidates);
    s.patterns[0] = arena.take<int32_t>(padded);
    s.patterns[1] = arena.take<int32_t>(padded);
    s.pow_bits[0] = arena.take<uint16_t>(padded);
    s.pow_bits[1] = arena.take<uint16_t>(padded);
    s.evaluated = arena.take<int32_t>(padded_candidates);
    return s;
  }
};

// Small groups run with one group per vector lane (search_group_lanes): a block of up to
// kCpuPad groups, each buffer element-major ([element][lane]).
constexpr int64_t kLanesMaxGroupSize = 64;
inline bool uses_lanes_layout(const GridSearchProblem& problem) {
  return problem.group_size <= kLanesMaxGroupSize;
}
// Whether search_groups streams a candidate's sum (StreamingSum) rather than buffering it: the
// group is whole loads of ATen's sum (8 fp32 values, or 16 of a 16-bit dtype) and fewer than 64
// of them, so that ATen's cascade never flushes.
inline bool streams_group_sum(int64_t group_size, int64_t load_values) {
  return group_size >= load_values && group_size % load_values == 0 &&
         group_size / load_values < 64;
}

// Whether search_groups can bound each candidate's error from the group's clamped extremes
// (clamp_bounds, grid_search_cpu_group.hpp), given terms >= 0: the group layout with streamed
// sums, and a pow that ATen specialises (Sleef's general pow is not proven monotone).
inline bool uses_clamp_bound(const GridSearchProblem& problem) {
  if (uses_lanes_layout(problem) || problem.pow.kind == PowKind::General) return false;
  const bool fp32_sum = problem.importance != nullptr || problem.error_in_fp32 ||
                        problem.value_type == ValueType::Float32;
  return problem.group_size == cpu_padded_size(problem.group_size) &&
         streams_group_sum(problem.group_size, fp32_sum ? 8 : 16);
}

struct LanesScratch {
  float* values;
  float* importance;
  float* bases;  // errors before the pow (for ATen's scalar tails)
  // The pows (of the table or computed), and the errors' 16-bit patterns for the table.
  LookupBuffers lookup;
  // Where repeated qparams are skipped: each lane's j-th evaluated candidate at
  // [j * kCpuPad + lane], its qparams and its index (as a float).
  float* step_scale;
  float* step_zero_point;
  float* step_candidate;

  static LanesScratch carve(ScratchArena& arena, int64_t group_size, int64_t candidates) {
    const int64_t block = group_size * kCpuPad;
    LanesScratch s{};
    s.values = arena.take<float>(block);
    s.importance = arena.take<float>(block);
    s.bases = arena.take<float>(block);
    s.lookup = LookupBuffers::carve(arena, block);
    s.step_scale = arena.take<float>(candidates * kCpuPad);
    s.step_zero_point = arena.take<float>(candidates * kCpuPad);
    s.step_candidate = arena.take<float>(candidates * kCpuPad);
    return s;
  }
};

// Whether a search may read its errors from an error memo: a pow table on bf16 weights and
// errors, an int grid with plain scales (symmetric, or asymmetric with at most
// kErrorMemoZeroPoints levels), no importance, the group layout with groups of a multiple of 64
// values that stream their sum (table_pass's order), and at most kErrorMemoMaxCandidates
// candidates. On AVX-512 hosts only (the reads' word permute).
inline bool uses_error_memo(const GridSearchProblem& problem) {
  const QuantSpec& quant = problem.quant;
  const bool grid = quant.rounding == Rounding::Int && quant.scale_format == ScaleFormat::Plain &&
                    (quant.symmetric || quant.q_max - quant.q_min < kErrorMemoZeroPoints);
  return problem.sleef_avx512 && problem.value_type == ValueType::BFloat16 &&
         !problem.error_in_fp32 && problem.pow.kind == PowKind::General &&
         problem.importance == nullptr && grid && problem.groups > 1 &&
         problem.group_size > kLanesMaxGroupSize && problem.group_size % 64 == 0 &&
         streams_group_sum(problem.group_size, 16) && problem.candidates >= 1 &&
         problem.candidates <= kErrorMemoMaxCandidates;
}
// Groups [begin, end)'s windows (error_memo_windows): keys[2 * group + w] is the key of window
// w's first block, or -1 (no such window; both -1 where the group's candidates do not fit).
void error_memo_windows_avx512(const GridSearchProblem& problem, const ErrorMemo& memo,
                               int64_t begin, int64_t end, int32_t* keys);
// The memo's entries for stored blocks [begin, end) of layout.blocks.
void fill_error_memo_avx512(const GridSearchProblem& problem, const PowTable& pow_table,
                            const ErrorMemoLayout& layout, int64_t begin, int64_t end);

inline int64_t cpu_scratch_bytes(const GridSearchProblem& problem) {
  ScratchArena arena;
  if (uses_lanes_layout(problem)) {
    LanesScratch::carve(arena, problem.group_size, problem.candidates);
  } else {
    GroupScratch::carve(arena, problem.group_size, problem.candidates);
  }
  return arena.used();
}
inline int64_t improvement_words(int64_t candidates) { return (candidates + 63) / 64; }

}  // namespace llmc::kernels
