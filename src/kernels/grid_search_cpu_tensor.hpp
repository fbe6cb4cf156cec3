// A single scale group over the whole tensor (TENSOR strategy, or activations with one qparam):
// one candidate's error terms over a flat element range, summed in the order ATen's cascade_sum
// sums that range. With one output ATen's reduction splits the tensor across threads
// (TensorIteratorReduce.cpp two_pass_reduction: one contiguous chunk per thread, each summed
// into its own slot of a buffer in the sum's dtype, then the slots summed); the driver
// (grid_search_cpu.cpp, search_single_group) reproduces that split and calls range_sum per
// chunk. Included by grid_search_cpu_select.hpp, once per instruction set, with policy `S`.
#pragma once

#include <cstdint>
#include <optional>

#include "grid_search_cpu_group.hpp"

namespace llmc::kernels {
namespace {

// SumKernel.cpp's row_sum (replayed by row_sum in grid_search_cpu_group.hpp) fed one load at a
// time, for rows too long to buffer: `loads` is the row's length in loads, known up front
// because the cascade's level step depends on it. Same additions in the same order: rows of 4
// loads into acc[0], a cascade into the higher levels after every level_step rows (while a
// whole block of level_step rows remains), the remaining rows into acc[0], the levels folded
// into acc[0], the loads past the last whole row into acc[0][0], then the four accumulators.
template <typename Acc>
class CascadeRowSum {
 public:
  static constexpr int64_t kIlp = 4;
  static constexpr int64_t kLevels = 4;

  explicit CascadeRowSum(int64_t loads) : rows_(loads / kIlp) {
    const int64_t power = ceil_log2(rows_) / kLevels;
    level_power_ = power > 4 ? power : 4;
    level_step_ = int64_t{1} << level_power_;
    cascaded_rows_ = rows_ / level_step_ * level_step_;
    if (rows_ == 0) fold();
  }

  void push(const Acc& load) {
    if (pushed_ < rows_ * kIlp) {
      acc_[0][pushed_ % kIlp] += load;
      ++pushed_;
      if (pushed_ % kIlp == 0) end_row(pushed_ / kIlp);
    } else {
      acc_[0][0] += load;
      ++pushed_;
    }
  }

  // After all `loads` pushes.
  Acc total() const {
    Acc sum = acc_[0][0];
    for (int64_t k = 1; k < kIlp; ++k) sum += acc_[0][k];
    return sum;
  }

 private:
  // Row `rows_done - 1` was the last one added.
  void end_row(int64_t rows_done) {
    if (rows_done <= cascaded_rows_ && rows_done % level_step_ == 0) {
      const int64_t level_mask = level_step_ - 1;
      for (int64_t j = 1; j < kLevels; ++j) {
        for (int64_t k = 0; k < kIlp; ++k) {
          acc_[j][k] += acc_[j - 1][k];
          acc_[j - 1][k] = Acc{};
        }
        if ((rows_done & (level_mask << (j * level_power_))) != 0) break;
      }
    }
    if (rows_done == rows_) fold();
  }

  void fold() {
    for (int64_t j = 1; j < kLevels; ++j) {
      for (int64_t k = 0; k < kIlp; ++k) acc_[0][k] += acc_[j][k];
    }
  }

  int64_t rows_;
  int64_t level_power_ = 4;
  int64_t level_step_ = 16;
  int64_t cascaded_rows_ = 0;
  int64_t pushed_ = 0;
  Acc acc_[kLevels][kIlp] = {};
};

// aten_inner_sum (cascade_sum's vectorized_inner_sum, or scalar_inner_sum for ranges shorter
// than one load) of `size` values of T held as floats, fed in order in pieces: every piece but
// the last a whole number of loads (InnerSumStream::kVecNumel values).
template <ValueType T>
class InnerSumStream {
 public:
  static constexpr int64_t kVecNumel = T == ValueType::Float32 ? kSumLanes : 2 * kSumLanes;

  explicit InnerSumStream(int64_t size)
      : size_(size), vec_count_(size / kVecNumel), lanes_(vec_count_) {}

  void add(const float* values, int64_t count) {
    int64_t k = 0;
    for (; k + kVecNumel <= count && loads_ < vec_count_; k += kVecNumel, ++loads_) {
      if constexpr (T == ValueType::Float32) {
        lanes_.push(Lanes{_mm256_loadu_ps(values + k)});
      } else {
        lanes_.push(Lanes{_mm256_add_ps(_mm256_loadu_ps(values + k),
                                        _mm256_loadu_ps(values + k + kSumLanes))});
      }
    }
    for (; k < count; ++k) rest_[rest_count_++] = values[k];
  }

  // The fp32 accumulator, after all `size` values.
  float total() const {
    // A range shorter than one load is all in rest_: aten_inner_sum's scalar_inner_sum.
    if (size_ < kVecNumel) return aten_inner_sum<T, false>(rest_, nullptr, size_);
    float total = 0.0f;
    for (int64_t k = 0; k < rest_count_; ++k) total += rest_[k];
    float lane_values[kSumLanes];
    _mm256_storeu_ps(lane_values, lanes_.total().v);
    for (int l = 0; l < kSumLanes; ++l) total += lane_values[l];
    return total;
  }

 private:
  int64_t size_;
  int64_t vec_count_;
  int64_t loads_ = 0;
  CascadeRowSum<Lanes> lanes_;
  // The values past the last whole load (or all of a range shorter than one load).
  float rest_[kVecNumel] = {};
  int64_t rest_count_ = 0;
};

// Elements per block of range_sum: whole loads of every sum type, and small enough that the
// block's buffers stay in L1.
constexpr int64_t kTensorBlock = 1024;
static_assert(kTensorBlock % (4 * kSumLanes) == 0, "blocks hold whole loads");
static_assert(4 * kTensorBlock <= kTensorScratchFloats, "range_sum's buffers fit the scratch");

// GCC 12 reports its own intrinsics' `__m512 __Y = __Y` (_mm512_undefined_*, the don't-care
// inputs of masked ops) as used uninitialized once inlined in the functions below, though not in
// search_groups, which inlines the same code: a false positive, silenced for these only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"

// Candidate `candidate`'s qparams as search_groups computes them (lane 0 of a vector: its
// shrink factor p as a float, then shrink and lanes_qparams); nullopt, noted, where its scale is
// inf (the dispatcher then hands the search to the reference).
template <class S, ValueType V, Grid G>
std::optional<CandidateVecs<S>> single_group_qparams(const GridSearchProblem& problem,
                                                     int64_t candidate) {
  float p[S::kWidth] = {};
  float scale[S::kWidth];
  float zero_point[S::kWidth];
  p[0] = static_cast<float>(1.0 - static_cast<double>(candidate) / problem.grid);
  candidates_qparams<S, V>(load_scalar<V>(problem.initial_min, 0),
                           load_scalar<V>(problem.initial_max, 0), p, 0, 1, problem.quant, scale,
                           zero_point);
  if (!(scale[0] < __builtin_inff())) {
    note_infinite_scale(problem);
    return std::nullopt;
  }
  return candidate_vecs<S, V, G>(GroupQParams{scale[0], zero_point[0]},
                                 LevelIntegers(problem.quant));
}

// The error terms of `padded` values (a whole number of vectors of S) as the kernels compute
// them where ATen's pow is vectorised: quantization_error, then the pow (the table for a 16-bit
// E with a general exponent). `errors` holds the values' errors before the pow on entry (their
// bases) and the terms on return; `bits` is scratch for `padded` words.
template <class S, ValueType E>
void vector_pows(const GridSearchProblem& problem, const PowTable& table, float* errors,
                 int32_t* bits, int64_t count, int64_t padded) {
  if constexpr (E != ValueType::Float32) {  // (a table is for 16-bit errors only)
    if (table.values != nullptr) {
      for (int64_t k = 0; k < padded; k += S::kWidth) {
        S::store_bits(bits + k, S::template bits16<E>(S::load(errors + k)));
      }
      look_up_pows(table.values, bits, errors, count);
      return;
    }
  }
  apply_pow<S, E>(errors, padded, problem.pow);
}

// Candidate `candidate`'s error terms over elements [begin, end) of the single group (problem.
// group_size elements), summed as InnerSumStream<sum type> sums them: the fp32 accumulator of
// that range's cascade_sum, before it is stored in the sum's dtype. Each term is computed as in
// search_groups: quantization_error, then the pow (vector_pows; std::pow on ATen's scalar
// tails), times importance when given. `scratch` holds kTensorScratchFloats floats.
template <class S, ValueType V, ValueType E, Grid G>
float range_sum(const GridSearchProblem& problem, const PowTable& table, int64_t candidate,
                int64_t begin, int64_t end, float* scratch) {
  float* values = scratch;
  float* errors = values + kTensorBlock;
  float* bases = errors + kTensorBlock;
  auto* bits = reinterpret_cast<int32_t*>(bases + kTensorBlock);
  const std::optional<CandidateVecs<S>> qparams = single_group_qparams<S, V, G>(problem, candidate);
  if (!qparams) return __builtin_nanf("");
  const bool weighted = problem.importance != nullptr;
  ScalarTails tails(problem);

  constexpr ValueType kSummed = E;  // the weighted sum is fp32: InnerSumStream<Float32> below
  InnerSumStream<kSummed> plain(weighted ? 0 : end - begin);
  InnerSumStream<ValueType::Float32> products(weighted ? end - begin : 0);
  for (int64_t block = begin; block < end; block += kTensorBlock) {
    const int64_t count = end - block < kTensorBlock ? end - block : kTensorBlock;
    const int64_t padded = cpu_padded_size(count);
    // The block as load_group's group 0: it starts `block` values into the tensor.
    constexpr int64_t kValueBytes = V == ValueType::Float32 ? 4 : 2;
    load_group<S, V>(static_cast<const char*>(problem.observed) + block * kValueBytes, 0, count,
                     padded, values);
    quantization_errors<S, V, E, G>(values, padded, *qparams, problem.quant, false, problem.pow,
                                    [&](int64_t k, typename S::Vec e) { S::store(errors + k, e); });
    // ATen's scalar tails in this block keep their bases for std::pow.
    tails.seek(block, block + count);
    tails.for_each([&](int64_t k) { bases[k] = errors[k]; });
    vector_pows<S, E>(problem, table, errors, bits, count, padded);
    tails.for_each([&](int64_t k) { errors[k] = scalar_pow<S, E>(bases[k], problem.pow); });
    if (weighted) {
      const float* importance = problem.importance + block;
      int64_t k = 0;
      for (; k + S::kWidth <= count; k += S::kWidth) {
        S::store(errors + k, S::mul(S::load(errors + k), S::load(importance + k)));
      }
      for (; k < count; ++k) errors[k] = errors[k] * importance[k];
      products.add(errors, count);
    } else {
      plain.add(errors, count);
    }
  }
  return weighted ? products.total() : plain.total();
}

// The terms range_sum sums, for a list of distinct values instead of the group's elements
// (ValueTerms in grid_search_cpu_isa.hpp). The values' errors are computed in blocks of
// kTensorBlock, with the same quantization_errors and vector_pows as range_sum's.
template <class S, ValueType V, ValueType E, Grid G>
bool value_terms(const GridSearchProblem& problem, const PowTable& table, int64_t candidate,
                 const ValueTerms& terms) {
  const std::optional<CandidateVecs<S>> qparams = single_group_qparams<S, V, G>(problem, candidate);
  if (!qparams) return false;
  for (int64_t block = 0; block < terms.count; block += kTensorBlock) {
    const int64_t count = terms.count - block < kTensorBlock ? terms.count - block : kTensorBlock;
    const int64_t padded = cpu_padded_size(count);
    float* errors = terms.terms + block;
    quantization_errors<S, V, E, G>(terms.values + block, padded, *qparams, problem.quant, false,
                                    problem.pow,
                                    [&](int64_t k, typename S::Vec e) { S::store(errors + k, e); });
    for (int64_t t = 0; t < terms.tail_count; ++t) {
      const int64_t k = terms.tail_values[t] - block;
      if (k >= 0 && k < count) terms.tail_terms[t] = errors[k];
    }
    vector_pows<S, E>(problem, table, errors, terms.bits, count, padded);
  }
  for (int64_t t = 0; t < terms.tail_count; ++t) {
    terms.tail_terms[t] = scalar_pow<S, E>(terms.tail_terms[t], problem.pow);
  }
  return true;
}
#pragma GCC diagnostic pop

// ATen's cascade_sum of `count` values of T held as floats (the two-pass reduction's second
// pass over its per-thread slots): the fp32 accumulator.
template <ValueType T>
float values_sum(const float* values, int64_t count) {
  InnerSumStream<T> sum(count);
  sum.add(values, count);
  return sum.total();
}

// values_sum for the sum's dtype.
inline float values_sum_for(ValueType type, const float* values, int64_t count) {
  switch (type) {
    case ValueType::Float16:
      return values_sum<ValueType::Float16>(values, count);
    case ValueType::BFloat16:
      return values_sum<ValueType::BFloat16>(values, count);
    case ValueType::Float32:
      break;
  }
  return values_sum<ValueType::Float32>(values, count);
}

}  // namespace
}  // namespace llmc::kernels
