// Plain-data description of one fused grid search, shared by the dispatcher and the CPU and CUDA
// kernels (private to src/kernels). Deliberately free of c10 and the standard containers: the
// CPU kernels are compiled once per instruction set (-mavx2, -mavx512f), and a header whose
// inline functions were compiled with AVX-512 could otherwise leak those copies into code run on
// an AVX2-only machine.
#pragma once

#include <cstdint>

namespace llmc::kernels {

// Floating dtypes the kernels read; also the dtype each intermediate is rounded to.
enum class ValueType : int8_t { Float32, Float16, BFloat16 };
// How clamped values are rounded onto the quantized grid.
enum class Rounding : int8_t { Int, Fp8E4M3, Fp4E2M1 };
// ATen's pow(x, norm) specialisations (Pow.cpp copies for norm 1; PowKernel.cpp on CPU, and
// PowKernel.cu on CUDA, pick the others): they round differently.
enum class PowKind : int8_t { Identity, Sqrt, Square, Cube, General };
// calculate_qparams' scale_dtype steps (LC §6.2 steps 2, 4 and 5) as the kernels apply them:
// none; the scale rounded to FP8 E4M3 (clamped to 448 first); or MX, whose symmetric scale is
// 2^(e8m0 - 127) from the range's rounded power of two (§6.4) instead of amax / half_range.
enum class ScaleFormat : int8_t { Plain, Fp8E4M3, Mx };

struct QuantSpec {
  Rounding rounding = Rounding::Int;
  bool symmetric = true;
  float q_min = -8.0f;
  float q_max = 7.0f;
  float half_range = 7.5f;  // (q_max - q_min) / 2 in the weight dtype (symmetric divisor)
  float range = 15.0f;      // q_max - q_min in the weight dtype (asymmetric divisor)
  float scale_eps = 0.0f;   // replaces a zero scale: the eps of scale_dtype, else of the weight dtype
  ScaleFormat scale_format = ScaleFormat::Plain;
  int32_t mx_exponent_offset = 0;  // MX: floor(log2(largest element value)), 2 for FP4, 8 for FP8
};

// |q - x|^norm of one element, rounded like ATen's pow on the error dtype.
struct PowSpec {
  PowKind kind = PowKind::General;
  float exponent = 2.4f;         // as the error dtype's Scalar conversion rounds it
  double exponent_double = 2.4;  // fp32 scalar tail: std::pow(float, double)
};

// ATen's at::internal::GRAIN_SIZE: elementwise ops and reductions over fewer elements than
// this run on one thread; over more, at::parallel_for splits them into one contiguous chunk
// per thread.
constexpr int64_t kAtenGrainSize = 32768;

// Flat element range [begin, end) where ATen's pow ran its scalar tail instead of Sleef.
struct ScalarRange {
  int64_t begin;
  int64_t end;
};

// CPU: whether a search that can read its errors from an error memo (uses_error_memo,
// grid_search_cpu_isa.hpp) builds one, and whether a single-group search sums its errors from
// counts of its values (grid_search_cpu_value_counts.hpp): where the estimated cost pays
// (Auto), never, or wherever it applies (tests).
enum class ErrorMemoUse : int8_t { Auto, Never, Always };

struct GridSearchProblem {
  ValueType value_type = ValueType::Float32;
  int64_t groups = 0;
  int64_t group_size = 0;
  const void* observed = nullptr;     // groups × group_size values of value_type
  const void* initial_min = nullptr;  // per group: amin × expand, value_type
  const void* initial_max = nullptr;
  // nullptr, or rows of group_size fp32 weights; group g uses row g % importance_rows.
  const float* importance = nullptr;
  int64_t importance_rows = 1;
  QuantSpec quant;
  double grid = 100.0;  // candidate i shrinks the range by p = 1 - i / grid
  int64_t candidates = 0;
  // Stop once no group improved for `patience` candidates in a row (never, with 0 and
  // patience_zero_means_never): the observers' global early stop.
  int64_t patience = 5;
  bool patience_zero_means_never = false;
  // Error dtype: fp32 (imatrix) or the weight dtype (mse); with importance the sum is fp32.
  bool error_in_fp32 = false;
  float best_error_init = 0.0f;  // finfo(error dtype).max
  PowSpec pow;
  // CPU only: where the reference's pow used std::pow, and which Sleef width it used.
  const ScalarRange* scalar_pow_ranges = nullptr;
  int64_t scalar_pow_range_count = 0;
  bool sleef_avx512 = true;
  // CPU, for tests: where each evaluated candidate's error is stored, groups × candidates
  // (error of candidate i of group g at g * candidates + i), by the single-group search and
  // the group layout (null: nowhere). See grid_search_single_group.hpp and
  // grid_search_group_errors.hpp.
  float* candidate_errors = nullptr;
  // With candidate_errors, the group layout's streamed sums are stored before their rounding to
  // the error dtype (the fp32 total the rounding reads), so that tests can compare orders of
  // summation that rounding would hide.
  bool candidate_sums = false;
  // CPU: set to 1 (relaxed atomic store, from any thread) when an evaluated candidate's scale is
  // inf (an asymmetric range wider than the dtype's largest value, an MX range from
  // 1.75 * 2^127): the reference's fake_quantize raises its error there, so the dispatcher
  // hands the search to it (the kernels' ranges are discarded, so they may stop early).
  int32_t* infinite_scale = nullptr;
  ErrorMemoUse error_memo = ErrorMemoUse::Auto;
  // CPU, for tests: when set, receives how many (group, round) searches read the error memo
  // (relaxed atomic adds, from any thread), or in a single-group search how many chunk sums
  // the value counts decided.
  int64_t* memo_group_rounds = nullptr;
  // CUDA only: ATen's CUDA summation order for the error rows (aten_cuda_sum_order.hpp):
  // vectors of cuda_sum_vec values (0: the strided, unvectorised order) over
  // cuda_block_width lanes.
  int cuda_sum_vec = 0;
  int cuda_block_width = 32;
};

// Where the reference's loop breaks, if it does within the first `evaluated` candidates: after
// the candidate that makes `patience` in a row in which no group improved (improved[i]: some
// group improved at i). -1 when the rule has not fired by then.
inline int64_t patience_stop_within(const uint8_t* improved, int64_t evaluated,
                                    const GridSearchProblem& problem) {
  const bool never_stop = problem.patience == 0 && problem.patience_zero_means_never;
  int64_t no_improve = 0;
  for (int64_t i = 0; i < evaluated; ++i) {
    no_improve = improved[i] != 0 ? 0 : no_improve + 1;
    if (improved[i] == 0 && !never_stop && no_improve >= problem.patience) return i + 1;
  }
  return -1;
}

// How many candidates the reference evaluates.
inline int64_t patience_stop(const uint8_t* improved, int64_t candidates,
                             const GridSearchProblem& problem) {
  const int64_t stop = patience_stop_within(improved, candidates, problem);
  return stop < 0 ? candidates : stop;
}

// Each group's min and max of problem.observed (value_type, one per group), as at::amin /
// at::amax compute them in a fraction of their time: min and max are exact, so only NaN needs
// care, and a group holding one gets NaN for both. Reads value_type, group_size, groups,
// observed and sleef_avx512 (the instruction set). Returns whether every value is finite.
bool group_ranges_cpu(const GridSearchProblem& problem, void* min_out, void* max_out);

// Both kernels search problem.candidates candidates with the patience rule applied and write
// each group's best range into best_min / best_max (value_type, one per group).
void grid_search_cpu(const GridSearchProblem& problem, void* best_min, void* best_max);
#ifdef LLMC_WITH_CUDA
void grid_search_cuda(const GridSearchProblem& problem, void* best_min, void* best_max);
#endif

}  // namespace llmc::kernels
