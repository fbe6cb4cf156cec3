// Built with -mavx2 -mf16c -ffp-contract=off (tests/CMakeLists.txt), like the AVX2 kernel.
#include "support/sum_replay.hpp"

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

}  // namespace llmc::test
