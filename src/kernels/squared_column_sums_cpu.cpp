// Built with -ffp-contract=off (CMakeLists.txt): a square and the addition it feeds must round
// separately, as ATen's pow and sum kernels do.
//
// What is replayed (torch 2.11, ATen/native/cpu/SumKernel.cpp and TensorIteratorReduce.cpp):
// the fp32 squares of a contiguous [rows, columns] tensor are summed over rows by
// cascade_sum's contiguous outer reduction. Whether ATen parallelises decides how the columns
// are split: below GRAIN_SIZE elements (or on one thread) one call covers them all; otherwise
// at::parallel_for(0, columns, 1) hands each thread a chunk, rounded to 32 columns (128 bytes).
// Within a chunk, blocks of 4 vectors of columns (vectorized_outer_sum; 4 columns in
// scalar_outer_sum, used when the chunk is narrower than one vector) sum each column with one
// cascade over all rows (multi_row_sum); the columns after the last such block sum each with
// row_sum, which first splits the rows into 4 interleaved cascades.
#include "squared_column_sums.hpp"

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace llmc::kernels {
namespace {

constexpr int64_t kLevels = 4;    // multi_row_sum's num_levels
constexpr int64_t kIlp = 4;       // row_sum's ilp_factor, and the 4 vectors of a column block
constexpr int64_t kMaxBlock = 32;  // the widest block: 4 vectors of 8 floats

// utils::CeilLog2.
int64_t ceil_log2(int64_t x) {
  if (x <= 2) return 1;
  int64_t bits = 0;
  for (uint64_t value = static_cast<uint64_t>(x) - 1; value != 0; value >>= 1) ++bits;
  return bits;
}

// The fp32 square of element (row, column) of a contiguous matrix of T.
template <typename T>
struct SquareLoad {
  const T* data;
  int64_t columns;
  float operator()(int64_t row, int64_t column) const {
    const float value = static_cast<float>(data[row * columns + column]);
    return value * value;
  }
};

// multi_row_sum for `width` adjacent columns from `column` on: each column's own cascade over
// the rows first + k * step for k < count (step 1: every row; row_sum's interleaved cascades
// use step 4). Writes column + b's sum to acc_out[b].
template <class Load>
void cascade(const Load& load, int64_t first, int64_t step, int64_t count, int64_t column,
             int64_t width, float* acc_out) {
  const int64_t level_power = std::max(int64_t{4}, ceil_log2(count) / kLevels);
  const int64_t level_step = int64_t{1} << level_power;
  const int64_t level_mask = level_step - 1;
  float acc[kLevels][kMaxBlock] = {};
  int64_t i = 0;
  while (i + level_step <= count) {
    for (int64_t j = 0; j < level_step; ++j, ++i) {
      const int64_t row = first + i * step;
      for (int64_t b = 0; b < width; ++b) acc[0][b] += load(row, column + b);
    }
    for (int64_t level = 1; level < kLevels; ++level) {
      for (int64_t b = 0; b < width; ++b) {
        acc[level][b] += acc[level - 1][b];
        acc[level - 1][b] = 0.0f;
      }
      if ((i & (level_mask << (level * level_power))) != 0) break;
    }
  }
  for (; i < count; ++i) {
    const int64_t row = first + i * step;
    for (int64_t b = 0; b < width; ++b) acc[0][b] += load(row, column + b);
  }
  for (int64_t level = 1; level < kLevels; ++level) {
    for (int64_t b = 0; b < width; ++b) acc[0][b] += acc[level][b];
  }
  for (int64_t b = 0; b < width; ++b) acc_out[b] = acc[0][b];
}

// One cascade over every row per column (multi_row_sum over the block).
template <class Load>
void block_sum(const Load& load, int64_t rows, int64_t column, int64_t width, float* out) {
  cascade(load, 0, 1, rows, column, width, out + column);
}

// row_sum per column: 4 interleaved cascades over the rows' first multiple of 4, the rest of
// the rows into the first, then the four added in order.
template <class Load>
void interleaved_sum(const Load& load, int64_t rows, int64_t column, int64_t width, float* out) {
  const int64_t per_lane = rows / kIlp;
  float partial[kIlp][kMaxBlock];
  for (int64_t k = 0; k < kIlp; ++k) cascade(load, k, kIlp, per_lane, column, width, partial[k]);
  for (int64_t row = per_lane * kIlp; row < rows; ++row) {
    for (int64_t b = 0; b < width; ++b) partial[0][b] += load(row, column + b);
  }
  for (int64_t k = 1; k < kIlp; ++k) {
    for (int64_t b = 0; b < width; ++b) partial[0][b] += partial[k][b];
  }
  // CastStoreAccumulate onto the zero-filled output: 0 + s is s for every s >= 0 or NaN.
  for (int64_t b = 0; b < width; ++b) out[column + b] = partial[0][b];
}

// cascade_sum's loop body for the columns [begin, end) of one call.
template <class Load>
void sum_columns(const Load& load, int64_t rows, int64_t begin, int64_t end, int64_t vec_size,
                 float* out) {
  const int64_t count = end - begin;
  int64_t j = 0;
  if (count >= vec_size) {  // vectorized_outer_sum
    for (; j + kIlp * vec_size <= count; j += kIlp * vec_size) {
      block_sum(load, rows, begin + j, kIlp * vec_size, out);
    }
    for (; j + vec_size <= count; j += vec_size) {
      interleaved_sum(load, rows, begin + j, vec_size, out);
    }
  } else {  // scalar_outer_sum
    for (; j + kIlp <= count; j += kIlp) block_sum(load, rows, begin + j, kIlp, out);
  }
  if (j < count) interleaved_sum(load, rows, begin + j, count - j, out);
}

// Vectorized<float>::size() in the sum kernel ATen dispatches to; 0 where not replayed. 8 on
// x86 under every capability: the AVX512 capability runs the AVX2 build of SumKernel.cpp (as
// the grid search's cascade replay also found), and the DEFAULT build's Vectorized is 32 bytes.
// (Measured: with 16, columns 16-31 of a 33-column input took the wrong path.)
// ATen settles its capability once per process, so this is looked up once, not per hook call.
int64_t aten_float_vec_size() {
  static const int64_t size = [] {
#if defined(__x86_64__) || defined(_M_X64)
    const std::string capability = at::get_cpu_capability();
    if (capability == "AVX512" || capability == "AVX2" || capability == "DEFAULT") return 8;
#endif
    return 0;
  }();
  return size;
}

template <typename T>
void squared_sums(const T* data, int64_t rows, int64_t columns, float* out) {
  const SquareLoad<T> load{data, columns};
  const int64_t vec_size = aten_float_vec_size();
  if (rows * columns < at::internal::GRAIN_SIZE || at::get_num_threads() == 1 ||
      at::in_parallel_region()) {
    sum_columns(load, rows, 0, columns, vec_size, out);
    return;
  }
  // parallel_dim_reduction: the columns split between threads, each chunk rounded to 128
  // bytes of fp32 columns (its end only where it is not the last column).
  constexpr int64_t kColumnsPer128Bytes = 128 / sizeof(float);
  at::parallel_for(0, columns, 1, [&](int64_t begin, int64_t end) {
    begin -= begin % kColumnsPer128Bytes;
    if (end != columns) end -= end % kColumnsPer128Bytes;
    if (begin == end) return;
    sum_columns(load, rows, begin, end, vec_size, out);
  });
}

}  // namespace

bool squared_column_sums_applies(const at::Tensor& x) {
  const auto dtype = x.scalar_type();
  return x.device().is_cpu() && x.layout() == at::kStrided && x.dim() >= 2 &&
         x.is_contiguous() &&
         (dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kHalf) && x.numel() > 0 && x.size(-1) >= 2 && aten_float_vec_size() > 0;
}

at::Tensor squared_column_sums_cpu(const at::Tensor& x) {
  TORCH_CHECK(squared_column_sums_applies(x),
              "squared_column_sums_cpu: needs a contiguous CPU fp32/bf16/fp16 tensor of at least "
              "2 dims with 2 or more columns, got ", x.scalar_type(), " ", x.sizes(), " on ",
              x.device());
  const int64_t columns = x.size(-1);
  const int64_t rows = x.numel() / columns;
  at::Tensor out = at::empty({columns}, x.options().dtype(at::kFloat));
  float* out_data = out.data_ptr<float>();
  switch (x.scalar_type()) {
    case at::kBFloat16:
      squared_sums(x.const_data_ptr<c10::BFloat16>(), rows, columns, out_data);
      break;
    case at::kHalf:
      squared_sums(x.const_data_ptr<c10::Half>(), rows, columns, out_data);
      break;
    default:
      squared_sums(x.const_data_ptr<float>(), rows, columns, out_data);
      break;
  }
  return out;
}

}  // namespace llmc::kernels
