// Built with -mavx2 -mf16c -ffp-contract=off (tests/CMakeLists.txt), like the AVX2 kernel.
#include "support/sum_replay.hpp"

#include <cmath>

#include "kernels/grid_search_cpu_avx2.hpp"
#include "kernels/grid_search_cpu_lanes.hpp"

namespace llmc::test {
namespace {

using kernels::Avx2;
using kernels::ValueType;

template <ValueType E>
float group_sum(const float* errors, const float* importance, int64_t size) {
  if (importance != nullptr) {
    return kernels::aten_inner_sum<ValueType::Float32, true>(errors, importance, size);
  }
  return kernels::round_scalar<Avx2, E>(kernels::aten_inner_sum<E, false>(errors, nullptr, size));
}

template <ValueType E>
void lanes_sum(const float* errors, const float* importance, int64_t size, float* out) {
  const __m256 total =
      importance != nullptr
          ? kernels::lanes_inner_sum<Avx2, ValueType::Float32, true>(errors, importance, size)
          : Avx2::round<E>(kernels::lanes_inner_sum<Avx2, E, false>(errors, nullptr, size));
  Avx2::store(out, total);
}

// Sum type T (fp32 when weighted); `finish` is how the kernel compares a sum (rounded to E
// without importance).
template <ValueType T, class Finish>
float streaming_sum(const float* errors, const float* importance, int64_t size,
                    float* checkpoint_sums, uint8_t* checkpoint_claims, const Finish& finish) {
  kernels::StreamingSum<T> sum(size);
  int64_t checkpoint = 0;
  kernels::stream_with_checkpoints(
      sum, size,
      [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; k += Avx2::kWidth) {
          __m256 piece = _mm256_loadu_ps(errors + k);
          if (importance != nullptr) piece = _mm256_mul_ps(piece, _mm256_loadu_ps(importance + k));
          sum.add_piece(piece);
        }
      },
      [&](const auto& partial) {
        const float total = partial.total();
        checkpoint_claims[checkpoint] =
            (partial.certainly_reaches(std::nextafter(total, INFINITY)) ? kClaimsAboveTotal : 0) |
            (partial.certainly_reaches(total * (1.0f - 0x1p-16f)) ? kClaimsJustBelowTotal : 0);
        checkpoint_sums[checkpoint++] = finish(total);
        return true;
      });
  return finish(sum.total());
}

template <ValueType E>
float streaming_sum_of(const float* errors, const float* importance, int64_t size,
                       float* checkpoint_sums, uint8_t* checkpoint_claims) {
  if (importance != nullptr) {
    return streaming_sum<ValueType::Float32>(errors, importance, size, checkpoint_sums,
                                             checkpoint_claims, [](float sum) { return sum; });
  }
  return streaming_sum<E>(errors, nullptr, size, checkpoint_sums, checkpoint_claims,
                          [](float sum) { return kernels::round_scalar<Avx2, E>(sum); });
}

}  // namespace

bool sum_replay_supported() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
}

float replay_group_sum(const float* errors, const float* importance, int64_t size,
                       SumDtype dtype) {
  switch (dtype) {
    case SumDtype::Float16:
      return group_sum<ValueType::Float16>(errors, importance, size);
    case SumDtype::BFloat16:
      return group_sum<ValueType::BFloat16>(errors, importance, size);
    case SumDtype::Float32:
      break;
  }
  return group_sum<ValueType::Float32>(errors, importance, size);
}

int64_t sum_replay_lanes() { return Avx2::kWidth; }

void replay_lanes_sum(const float* errors, const float* importance, int64_t size, SumDtype dtype,
                      float* out) {
  switch (dtype) {
    case SumDtype::Float16:
      return lanes_sum<ValueType::Float16>(errors, importance, size, out);
    case SumDtype::BFloat16:
      return lanes_sum<ValueType::BFloat16>(errors, importance, size, out);
    case SumDtype::Float32:
      break;
  }
  lanes_sum<ValueType::Float32>(errors, importance, size, out);
}

bool streaming_sum_applies(int64_t size, SumDtype dtype, bool weighted) {
  if (weighted || dtype == SumDtype::Float32) {
    return kernels::StreamingSum<ValueType::Float32>::applies(size);
  }
  return kernels::StreamingSum<ValueType::BFloat16>::applies(size);  // as for Float16
}

int64_t streaming_checkpoint_step(SumDtype dtype, bool weighted) {
  if (weighted || dtype == SumDtype::Float32) {
    return kernels::StreamingSum<ValueType::Float32>::kCheckpointElements;
  }
  return kernels::StreamingSum<ValueType::BFloat16>::kCheckpointElements;
}

float replay_streaming_sum(const float* errors, const float* importance, int64_t size,
                           SumDtype dtype, float* checkpoint_sums, uint8_t* checkpoint_claims) {
  switch (dtype) {
    case SumDtype::Float16:
      return streaming_sum_of<ValueType::Float16>(errors, importance, size, checkpoint_sums,
                                                      checkpoint_claims);
    case SumDtype::BFloat16:
      return streaming_sum_of<ValueType::BFloat16>(errors, importance, size, checkpoint_sums,
                                                      checkpoint_claims);
    case SumDtype::Float32:
      break;
  }
  return streaming_sum_of<ValueType::Float32>(errors, importance, size, checkpoint_sums,
                                                      checkpoint_claims);
}

}  // namespace llmc::test
