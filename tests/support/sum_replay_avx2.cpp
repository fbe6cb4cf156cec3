// Built with -mavx2 -mf16c -ffp-contract=off (tests/CMakeLists.txt), like the AVX2 kernel.
#include "support/sum_replay.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/grid_search_cpu_avx2.hpp"
#include "kernels/grid_search_cpu_lanes.hpp"
#include "kernels/grid_search_cpu_tensor.hpp"

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

// The table pipeline's steady pass (table_pass with all three streams) given `errors`, as
// 16-bit E patterns, for the pows its previous pass looked up: its sum rounded to E. It also
// looks up scattered patterns in a scrambled table and produces candidate patterns for
// all-zero values; *streams_ok says whether those came out as table[index] and as zero errors.
template <ValueType E>
float table_pass_sum(const float* errors, int64_t size, bool* streams_ok, float* unrounded) {
  const auto count = static_cast<size_t>(size);
  std::vector<uint16_t> pows_in(count);
  std::vector<uint16_t> pows_out(count, 0xFFFF);
  std::vector<int32_t> looked_up(count);
  std::vector<int32_t> produced(count, -1);
  const std::vector<float> values(count, 0.0f);
  std::vector<uint16_t> table(static_cast<size_t>(kernels::kPowTableSize));
  std::vector<uint32_t> high_table(table.size());
  for (size_t b = 0; b < table.size(); ++b) {
    table[b] = static_cast<uint16_t>((b * 2654435761u) >> 17);
    high_table[b] = uint32_t{table[b]} << 16;
  }
  for (size_t k = 0; k < count; ++k) {
    kernels::store_scalar<E>(pows_in.data(), static_cast<int64_t>(k), errors[k]);
    looked_up[k] = static_cast<int32_t>((k * 7919u + 13u) & 0x7FFFu);
  }
  const kernels::QuantSpec quant;
  const kernels::LevelIntegers integers(quant);
  const auto candidate = kernels::candidate_vecs<Avx2, E, kernels::Grid::IntSymmetric>(
      kernels::GroupQParams{1.0f, 0.0f}, integers);
  const float sum = kernels::lanes_total(
      kernels::table_pass<Avx2, E, E, kernels::Grid::IntSymmetric, true, true, true>(
          values.data(), size, candidate, Avx2::set1(quant.q_min), Avx2::set1(quant.q_max),
          produced.data(), table.data(), high_table.data(), looked_up.data(), pows_out.data(),
          pows_in.data()));
  bool ok = true;
  for (size_t k = 0; k < count; ++k) {
    ok = ok && pows_out[k] == table[static_cast<size_t>(looked_up[k])] && produced[k] == 0;
  }
  *streams_ok = ok;
  *unrounded = sum;
  return kernels::round_scalar<Avx2, E>(sum);
}

}  // namespace

bool weighted_pass_applies(int64_t size) {
  return kernels::StreamingSum<ValueType::Float32>::applies(size) &&
         size % kernels::kWeightedPassStep == 0;
}

float replay_weighted_pass_sum(const float* errors, const float* importance, int64_t size,
                               int norm) {
  // q_min = q_max = 0: every value quantizes to 0, so its error is |x| = x.
  kernels::QuantSpec quant;
  quant.q_min = 0.0f;
  quant.q_max = 0.0f;
  kernels::PowSpec pow;
  pow.kind = norm == 1   ? kernels::PowKind::Identity
             : norm == 2 ? kernels::PowKind::Square
                         : kernels::PowKind::Cube;
  pow.exponent = static_cast<float>(norm);
  pow.exponent_double = norm;
  const kernels::LevelIntegers integers(quant);
  const auto candidate =
      kernels::candidate_vecs<Avx2, ValueType::Float32, kernels::Grid::IntSymmetric>(
          kernels::GroupQParams{1.0f, 0.0f}, integers);
  return kernels::weighted_error<Avx2, ValueType::Float32, ValueType::Float32,
                                 kernels::Grid::IntSymmetric>(
      errors, importance, size, candidate, Avx2::set1(quant.q_min), Avx2::set1(quant.q_max),
      pow);
}

bool table_pass_applies(int64_t size, SumDtype dtype, bool weighted) {
  return !weighted && dtype != SumDtype::Float32 &&
         kernels::StreamingSum<ValueType::BFloat16>::applies(size) &&
         size % kernels::kTablePassStep == 0;
}

float replay_table_pass_sum(const float* errors, int64_t size, SumDtype dtype, bool* streams_ok,
                            float* unrounded) {
  if (dtype == SumDtype::Float16) {
    return table_pass_sum<ValueType::Float16>(errors, size, streams_ok, unrounded);
  }
  return table_pass_sum<ValueType::BFloat16>(errors, size, streams_ok, unrounded);
}

float replay_group_sum_accumulator(const float* errors, int64_t size, SumDtype dtype) {
  switch (dtype) {
    case SumDtype::Float16:
      return kernels::aten_inner_sum<ValueType::Float16, false>(errors, nullptr, size);
    case SumDtype::BFloat16:
      return kernels::aten_inner_sum<ValueType::BFloat16, false>(errors, nullptr, size);
    case SumDtype::Float32:
      break;
  }
  return kernels::aten_inner_sum<ValueType::Float32, false>(errors, nullptr, size);
}

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

namespace {

template <ValueType T>
float range_sum_of(const float* values, int64_t size) {
  kernels::InnerSumStream<T> sum(size);
  for (int64_t begin = 0; begin < size; begin += kernels::kTensorBlock) {
    sum.add(values + begin,
            size - begin < kernels::kTensorBlock ? size - begin : kernels::kTensorBlock);
  }
  return sum.total();
}

kernels::ValueType value_type_of(SumDtype dtype) {
  switch (dtype) {
    case SumDtype::Float16: return ValueType::Float16;
    case SumDtype::BFloat16: return ValueType::BFloat16;
    case SumDtype::Float32: break;
  }
  return ValueType::Float32;
}

}  // namespace

float replay_range_sum(const float* values, int64_t size, SumDtype dtype) {
  switch (dtype) {
    case SumDtype::Float16: return range_sum_of<ValueType::Float16>(values, size);
    case SumDtype::BFloat16: return range_sum_of<ValueType::BFloat16>(values, size);
    case SumDtype::Float32: break;
  }
  return range_sum_of<ValueType::Float32>(values, size);
}

float replay_values_sum(const float* values, int64_t count, SumDtype dtype) {
  return kernels::values_sum_for(value_type_of(dtype), values, count);
}

namespace {

// A partial sum's most inexact additions on a path from one of its terms; an empty (exactly
// zero) accumulator adds exactly.
struct AddDepth {
  int64_t depth = 0;
  bool nonzero = false;
  AddDepth& operator+=(const AddDepth& other) {
    if (!other.nonzero) return *this;
    if (!nonzero) {
      *this = other;
    } else {
      depth = std::max(depth, other.depth) + 1;
    }
    return *this;
  }
};

}  // namespace

int64_t replay_range_sum_depth(int64_t size) {
  // InnerSumStream<bf16>: below one load, scalar_inner_sum (a chain of size - 1 adds at most);
  // else each load adds its two halves, the loads go through CascadeRowSum, and total() adds the
  // values past the last load to 0, then the 8 lanes.
  constexpr int64_t kLoad = 16;
  if (size < kLoad) return size > 1 ? size - 1 : 0;
  kernels::CascadeRowSum<AddDepth> lanes(size / kLoad);
  for (int64_t load = 0; load < size / kLoad; ++load) lanes.push(AddDepth{1, true});
  AddDepth total;
  for (int64_t k = 0; k < size % kLoad; ++k) total += AddDepth{0, true};
  const AddDepth lane = lanes.total();
  for (int l = 0; l < 8; ++l) total += lane;
  return total.depth;
}

}  // namespace llmc::test
