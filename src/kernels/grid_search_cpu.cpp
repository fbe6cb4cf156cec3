// CPU fused grid search: at::parallel_for over scale groups; each group is loaded once into a
// cache-resident buffer and every candidate is evaluated on it. To choose exactly the
// reference's candidate (strict '<' on errors that often tie after bf16 rounding), each error
// is computed bit for bit as ATen computes it: element ops rounded to the error dtype, Sleef's
// powf where ATen's vectorised pow used it (std::pow on its scalar tails), and the sum in the
// order of ATen's cascade_sum (SumKernel.cpp, whose AVX2 kernel also serves AVX512).
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>

#include "grid_search_problem.hpp"

// Sleef's vector powf as linked into libtorch_cpu (the functions ATen's Vectorized::pow calls).
#pragma GCC push_options
#pragma GCC target("avx512f")
extern "C" __m512 Sleef_powf16_u10(__m512, __m512);
namespace {
void sleef_pow_avx512(float* values, int64_t count, float exponent) {
  const __m512 exponents = _mm512_set1_ps(exponent);
  for (int64_t i = 0; i < count; i += 16) {
    _mm512_storeu_ps(values + i, Sleef_powf16_u10(_mm512_loadu_ps(values + i), exponents));
  }
}
}  // namespace
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2")
extern "C" __m256 Sleef_powf8_u10(__m256, __m256);
namespace {
void sleef_pow_avx2(float* values, int64_t count, float exponent) {
  const __m256 exponents = _mm256_set1_ps(exponent);
  for (int64_t i = 0; i < count; i += 8) {
    _mm256_storeu_ps(values + i, Sleef_powf8_u10(_mm256_loadu_ps(values + i), exponents));
  }
}
}  // namespace
#pragma GCC pop_options

// The dispatcher only runs this kernel where ATen reports AVX2 or AVX512. No FMA: every
// product and sum must round separately, as in ATen.
#pragma GCC push_options
#pragma GCC target("avx2")

namespace llmc::kernels {
namespace {

constexpr int64_t kPowBlock = 16;  // buffers are padded to whole Sleef vectors

// ---- ATen's cascade_sum for one contiguous row -------------------------------------------------

constexpr int kSumLanes = 8;  // Vectorized<float> of the AVX2 sum kernel

struct Lanes {
  std::array<float, kSumLanes> v{};
  Lanes& operator+=(const Lanes& other) {
    for (int l = 0; l < kSumLanes; ++l) v[l] += other.v[l];
    return *this;
  }
};

int64_t ceil_log2(int64_t x) {
  if (x <= 2) return 1;
  int64_t bits = 0;
  for (uint64_t value = static_cast<uint64_t>(x) - 1; value != 0; value >>= 1) ++bits;
  return bits;
}

// SumKernel.cpp row_sum / multi_row_sum: 4 interleaved accumulators, each a cascade of 4 levels
// of chunk sums, so that only values of similar magnitude meet.
template <typename Acc, typename Load>
Acc row_sum(const Load& load, int64_t size) {
  constexpr int64_t kIlp = 4;
  constexpr int64_t kLevels = 4;
  const int64_t rows = size / kIlp;
  const int64_t level_power = std::max<int64_t>(4, ceil_log2(rows) / kLevels);
  const int64_t level_step = int64_t{1} << level_power;
  const int64_t level_mask = level_step - 1;
  std::array<std::array<Acc, kIlp>, kLevels> acc{};
  int64_t i = 0;
  while (i + level_step <= rows) {
    for (int64_t j = 0; j < level_step; ++j, ++i) {
      for (int64_t k = 0; k < kIlp; ++k) acc[0][k] += load(i * kIlp + k);
    }
    for (int64_t j = 1; j < kLevels; ++j) {
      for (int64_t k = 0; k < kIlp; ++k) {
        acc[j][k] += acc[j - 1][k];
        acc[j - 1][k] = Acc{};
      }
      if ((i & (level_mask << (j * level_power))) != 0) break;
    }
  }
  for (; i < rows; ++i) {
    for (int64_t k = 0; k < kIlp; ++k) acc[0][k] += load(i * kIlp + k);
  }
  for (int64_t j = 1; j < kLevels; ++j) {
    for (int64_t k = 0; k < kIlp; ++k) acc[0][k] += acc[j][k];
  }
  for (int64_t e = rows * kIlp; e < size; ++e) acc[0][0] += load(e);
  for (int64_t k = 1; k < kIlp; ++k) acc[0][0] += acc[0][k];
  return acc[0][0];
}

// cascade_sum over a contiguous inner dimension: vectorized_inner_sum when the row holds a
// whole Vectorized<T> (16-bit types add the two fp32 halves of each load first), else
// scalar_inner_sum. Returns the fp32 accumulator; the caller rounds it to T.
template <ValueType T>
float aten_inner_sum(const float* values, int64_t size) {
  constexpr int64_t vec_numel = T == ValueType::Float32 ? kSumLanes : 2 * kSumLanes;
  if (size < vec_numel) {
    return row_sum<float>([values](int64_t i) { return values[i]; }, size);
  }
  const int64_t vec_count = size / vec_numel;
  const Lanes lanes = row_sum<Lanes>(
      [values](int64_t index) {
        Lanes loaded;
        const float* base = values + index * vec_numel;
        for (int l = 0; l < kSumLanes; ++l) {
          loaded.v[l] = T == ValueType::Float32 ? base[l] : base[l] + base[l + kSumLanes];
        }
        return loaded;
      },
      vec_count);
  float total = 0.0f;
  for (int64_t k = vec_count * vec_numel; k < size; ++k) total += values[k];
  for (int l = 0; l < kSumLanes; ++l) total += lanes.v[l];
  return total;
}

// ---- one group, all candidates -----------------------------------------------------------------

template <ValueType T>
struct StorageOf;
template <>
struct StorageOf<ValueType::Float32> { using type = float; };
template <>
struct StorageOf<ValueType::Float16> { using type = c10::Half; };
template <>
struct StorageOf<ValueType::BFloat16> { using type = c10::BFloat16; };

// V: weight dtype (candidate ranges, qparams, fake-quant); E: dtype of the elementwise error.
template <ValueType V, ValueType E>
class GroupSearch {
  using Storage = typename StorageOf<V>::type;

 public:
  GroupSearch(const GridSearchProblem& problem, int64_t candidates)
      : problem_(problem),
        candidates_(candidates),
        padded_((problem.group_size + kPowBlock - 1) / kPowBlock * kPowBlock),
        values_(problem.group_size),
        errors_(padded_, 1.0f) {}

  // Best (min, max) of `group` over the candidates; sets improved[i] where the group improved.
  std::pair<float, float> run(int64_t group, std::vector<uint8_t>& improved) {
    const int64_t size = problem_.group_size;
    const auto* observed = static_cast<const Storage*>(problem_.observed) + group * size;
    for (int64_t k = 0; k < size; ++k) values_[k] = static_cast<float>(observed[k]);
    const float min0 = static_cast<float>(static_cast<const Storage*>(problem_.initial_min)[group]);
    const float max0 = static_cast<float>(static_cast<const Storage*>(problem_.initial_max)[group]);
    const float* importance =
        problem_.importance == nullptr
            ? nullptr
            : problem_.importance + (group % problem_.importance_rows) * size;

    float best_error = problem_.best_error_init;
    std::pair<float, float> best{min0, max0};
    for (int64_t i = 0; i < candidates_; ++i) {
      const float shrunk_min = shrink<V>(min0, problem_.grid, i);
      const float shrunk_max = shrink<V>(max0, problem_.grid, i);
      const float error =
          candidate_error(group, group_qparams<V>(shrunk_min, shrunk_max, problem_.quant),
                          importance);
      if (error < best_error) {  // strict: ties keep the wider range
        best_error = error;
        best = {shrunk_min, shrunk_max};
        improved[i] = 1;
      }
    }
    return best;
  }

 private:
  float candidate_error(int64_t group, GroupQParams qparams, const float* importance) {
    const int64_t size = problem_.group_size;
    for (int64_t k = 0; k < size; ++k) {
      const float quantized = fake_quantize_value<V>(values_[k], qparams, problem_.quant);
      // mse: (q - x) in the weight dtype; imatrix: both cast to fp32 first.
      const float difference = round_to<E>(quantized - values_[k]);
      errors_[k] = std::fabs(difference);
    }
    apply_pow(group);
    if (importance != nullptr) {
      for (int64_t k = 0; k < size; ++k) errors_[k] *= importance[k];
      return aten_inner_sum<ValueType::Float32>(errors_.data(), size);
    }
    return round_to<E>(aten_inner_sum<E>(errors_.data(), size));
  }

  void apply_pow(int64_t group) {
    const int64_t size = problem_.group_size;
    const PowSpec& pow = problem_.pow;
    switch (pow.kind) {
      case PowKind::Sqrt:
        for (int64_t k = 0; k < size; ++k) errors_[k] = round_to<E>(std::sqrt(errors_[k]));
        return;
      case PowKind::Square:
        for (int64_t k = 0; k < size; ++k) errors_[k] = round_to<E>(errors_[k] * errors_[k]);
        return;
      case PowKind::Cube:
        for (int64_t k = 0; k < size; ++k) {
          errors_[k] = round_to<E>(round_to<E>(errors_[k] * errors_[k]) * errors_[k]);
        }
        return;
      case PowKind::General:
        general_pow(group);
        return;
    }
  }

  // Sleef where ATen's vectorised loop ran, std::pow on the elements of its scalar tails.
  void general_pow(int64_t group) {
    const int64_t size = problem_.group_size;
    const PowSpec& pow = problem_.pow;
    const int64_t group_begin = group * size;
    tails_.clear();
    for (const ScalarRange& range : problem_.scalar_pow_ranges) {
      const int64_t begin = std::max(range.begin, group_begin) - group_begin;
      const int64_t end = std::min(range.end, group_begin + size) - group_begin;
      for (int64_t k = begin; k < end; ++k) {
        const float base = errors_[k];
        const float value = E == ValueType::Float32
                                ? static_cast<float>(std::pow(static_cast<double>(base),
                                                              pow.exponent_double))
                                : std::pow(base, pow.exponent);
        tails_.emplace_back(k, round_to<E>(value));
      }
    }
    if (problem_.sleef_avx512) {
      sleef_pow_avx512(errors_.data(), padded_, pow.exponent);
    } else {
      sleef_pow_avx2(errors_.data(), padded_, pow.exponent);
    }
    if constexpr (E != ValueType::Float32) {
      for (int64_t k = 0; k < size; ++k) errors_[k] = round_to<E>(errors_[k]);
    }
    for (const auto& [k, value] : tails_) errors_[k] = value;
  }

  const GridSearchProblem& problem_;
  int64_t candidates_;
  int64_t padded_;
  std::vector<float> values_;
  std::vector<float> errors_;
  std::vector<std::pair<int64_t, float>> tails_;
};

template <ValueType V, ValueType E>
std::vector<uint8_t> search_all_groups(const GridSearchProblem& problem, int64_t candidates,
                                       void* best_min, void* best_max) {
  using Storage = typename StorageOf<V>::type;
  auto* min_out = static_cast<Storage*>(best_min);
  auto* max_out = static_cast<Storage*>(best_max);
  std::vector<uint8_t> improved(candidates, 0);
  std::mutex improved_mutex;
  const int64_t grain = std::max<int64_t>(1, 16384 / problem.group_size);
  at::parallel_for(0, problem.groups, grain, [&](int64_t begin, int64_t end) {
    GroupSearch<V, E> search(problem, candidates);
    std::vector<uint8_t> local(candidates, 0);
    for (int64_t group = begin; group < end; ++group) {
      const auto [min, max] = search.run(group, local);
      min_out[group] = static_cast<Storage>(min);
      max_out[group] = static_cast<Storage>(max);
    }
    const std::lock_guard<std::mutex> lock(improved_mutex);
    for (int64_t i = 0; i < candidates; ++i) improved[i] |= local[i];
  });
  return improved;
}

template <ValueType V>
std::vector<uint8_t> search_with_error_type(const GridSearchProblem& problem, int64_t candidates,
                                            void* best_min, void* best_max) {
  if (problem.error_in_fp32) {
    return search_all_groups<V, ValueType::Float32>(problem, candidates, best_min, best_max);
  }
  return search_all_groups<V, V>(problem, candidates, best_min, best_max);
}

}  // namespace

std::vector<uint8_t> grid_search_cpu(const GridSearchProblem& problem, int64_t candidates,
                                     void* best_min, void* best_max) {
  switch (problem.value_type) {
    case ValueType::Float32:
      return search_with_error_type<ValueType::Float32>(problem, candidates, best_min, best_max);
    case ValueType::Float16:
      return search_with_error_type<ValueType::Float16>(problem, candidates, best_min, best_max);
    case ValueType::BFloat16:
      return search_with_error_type<ValueType::BFloat16>(problem, candidates, best_min, best_max);
  }
  return {};
}

}  // namespace llmc::kernels

#pragma GCC pop_options
