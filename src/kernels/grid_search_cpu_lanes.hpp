// Small scale groups (NVFP4's 16 values, int4 groups of 32) with one group per vector lane: a
// block of S::kWidth groups is transposed into element-major buffers once per round, and every
// step of a candidate, from its range and qparams to the cascade sum of its errors and the
// strict-improvement test, is a vertical vector op. Group by group (search_groups), a 16-value
// group spent most of its time on per-candidate scalar work and horizontal sums.
//
// Same results as search_groups, bit for bit: the same element ops, and ATen's cascade_sum
// replayed per lane in its own order (lanes_inner_sum).
#pragma once

#include "grid_search_cpu_group.hpp"

#define LLMC_KERNEL_INLINE inline __attribute__((always_inline))

namespace llmc::kernels {
namespace {

// row_sum (above) of every lane's row at once, for rows of fewer than 16 × 4 loads, where the
// cascade never flushes: four interleaved accumulators, the loads past the last whole row of 4
// into the first, then the four added in order. (row_sum's further additions of empty levels
// add +0, which changes no non-negative sum.)
template <class S, class Load>
LLMC_KERNEL_INLINE typename S::Vec lanes_row_sum(const Load& load, int64_t size) {
  using Vec = typename S::Vec;
  const int64_t rows = size / 4;
  Vec acc[4] = {S::set1(0.0f), S::set1(0.0f), S::set1(0.0f), S::set1(0.0f)};
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t k = 0; k < 4; ++k) acc[k] = S::add(acc[k], load(i * 4 + k));
  }
  for (int64_t e = rows * 4; e < size; ++e) acc[0] = S::add(acc[0], load(e));
  if (rows > 0) {
    for (int64_t k = 1; k < 4; ++k) acc[0] = S::add(acc[0], acc[k]);
  }
  return acc[0];
}

// aten_inner_sum (above) of every lane's row: errors[k * kWidth + lane], times importance laid
// out the same way when weighted.
template <class S, ValueType T, bool Weighted>
LLMC_KERNEL_INLINE typename S::Vec lanes_inner_sum(const float* errors, const float* importance,
                                                   int64_t size) {
  using Vec = typename S::Vec;
  constexpr int64_t kWidth = S::kWidth;
  const auto element = [errors, importance](int64_t k) {
    const Vec error = S::load(errors + k * kWidth);
    if constexpr (Weighted) {
      return S::mul(error, S::load(importance + k * kWidth));
    } else {
      (void)importance;
      return error;
    }
  };
  constexpr int64_t vec_numel = T == ValueType::Float32 ? kSumLanes : 2 * kSumLanes;
  if (size < vec_numel) return lanes_row_sum<S>(element, size);
  const int64_t vec_count = size / vec_numel;
  Vec lanes[kSumLanes];
  for (int64_t l = 0; l < kSumLanes; ++l) {
    lanes[l] = lanes_row_sum<S>(
        [&element, l](int64_t index) {
          const int64_t base = index * vec_numel + l;
          if constexpr (T == ValueType::Float32) {
            return element(base);
          } else {
            return S::add(element(base), element(base + kSumLanes));
          }
        },
        vec_count);
  }
  Vec total = S::set1(0.0f);
  for (int64_t k = vec_count * vec_numel; k < size; ++k) total = S::add(total, element(k));
  for (int64_t l = 0; l < kSumLanes; ++l) total = S::add(total, lanes[l]);
  return total;
}

template <class S, ValueType V, ValueType E, Grid G>
void search_group_lanes(const GridSearchProblem& problem, const PowTable& pow_table,
                        const SearchRound& round, int64_t begin, int64_t end,
                        std::byte* scratch, void* best_min, void* best_max) {
  using Vec = typename S::Vec;
  constexpr int64_t kWidth = S::kWidth;
  const int64_t size = problem.group_size;
  const int64_t words = improvement_words(problem.candidates);
  ScratchArena arena(scratch);
  const LanesScratch buffers = LanesScratch::carve(arena, size, problem.candidates);
  int32_t* bits = buffers.lookup.bits;
  float* pows = buffers.lookup.pows;
  const bool weighted = problem.importance != nullptr;
  ScalarTails tails(problem);
  const Vec low = S::set1(problem.quant.q_min);
  const Vec high = S::set1(problem.quant.q_max);

  for (int64_t first_group = begin; first_group < end; first_group += kWidth) {
    const int64_t lanes = end - first_group < kWidth ? end - first_group : kWidth;
    // Unused lanes hold an all-zero group, whose results are dropped.
    float lane_min[kWidth] = {};
    float lane_max[kWidth] = {};
    float lane_best_error[kWidth] = {};
    float lane_best[kWidth] = {};
    // A whole block's groups are kWidth consecutive rows of `size` values (and of importance,
    // where their rows are consecutive too): whole tiles are transposed into the element-major
    // buffers, where element-by-element copies had taken a quarter of the kernel's time
    // (1024x4096 MXFP8 imatrix_mse). The values go through `bases` as floats first (it is
    // written only later, by the error passes).
    const bool tiles = lanes == kWidth && size % kWidth == 0;
    const int64_t first_row = weighted ? first_group % problem.importance_rows : 0;
    const bool importance_tiles = tiles && weighted && first_row + kWidth <= problem.importance_rows;
    if (tiles) {
      constexpr int64_t kValueBytes = V == ValueType::Float32 ? 4 : 2;
      load_group<S, V>(static_cast<const char*>(problem.observed) + first_group * size * kValueBytes,
                       0, kWidth * size, kWidth * size, buffers.bases);
      for (int64_t k = 0; k < size; k += kWidth) {
        S::transpose_tile(buffers.bases + k, size, buffers.values + k * kWidth);
      }
    }
    if (importance_tiles) {
      const float* rows = problem.importance + first_row * size;
      for (int64_t k = 0; k < size; k += kWidth) {
        S::transpose_tile(rows + k, size, buffers.importance + k * kWidth);
      }
    }
    for (int64_t lane = 0; lane < kWidth; ++lane) {
      const int64_t group = first_group + lane;
      if (!tiles) {
        for (int64_t k = 0; k < size; ++k) {
          buffers.values[k * kWidth + lane] =
              lane < lanes ? load_scalar<V>(problem.observed, group * size + k) : 0.0f;
        }
      }
      if (weighted && !importance_tiles) {
        const float* row = problem.importance + (group % problem.importance_rows) * size;
        for (int64_t k = 0; k < size; ++k) {
          buffers.importance[k * kWidth + lane] = lane < lanes ? row[k] : 0.0f;
        }
      }
      if (lane < lanes) {
        lane_min[lane] = load_scalar<V>(problem.initial_min, group);
        lane_max[lane] = load_scalar<V>(problem.initial_max, group);
        lane_best_error[lane] = round.best_error[group];
        lane_best[lane] = static_cast<float>(round.best[group]);
      }
    }
    // ATen's scalar pow tails within the block (sorted, disjoint; blocks come in order).
    const int64_t block_begin = first_group * size;
    const int64_t block_end = block_begin + lanes * size;
    tails.seek(block_begin, block_end);
    const bool has_tails = tails.any();
    // visit(index into the element-major buffers) for each tail element of the block.
    const auto for_each_tail_element = [&](const auto& visit) {
      tails.for_each([&](int64_t local) { visit(local % size * kWidth + local / size); });
    };

    const Vec min0 = S::load(lane_min);
    const Vec max0 = S::load(lane_max);
    Vec best_error = S::load(lane_best_error);
    Vec best = S::load(lane_best);
    const uint32_t used_lanes = (uint32_t{1} << lanes) - 1;
    // A candidate whose qparams equal its group's previous candidate's, bit for bit, has the
    // same errors, which cannot beat the best (strict '<'): rounded scales (FP8, MX) repeat
    // often, so there each lane evaluates only its candidates that do not repeat, as a list of
    // steps (an MX scale is a power of two: memoryless_mse's 20 candidates, p from 1 down to
    // 0.81, have at most two per group). Lanes with fewer steps repeat their last one, which
    // cannot win either. Every skipped candidate's improvement bit stays 0, as it would be.
    // (Unrounded scales almost never repeat: each candidate is one step for every lane.)
    const bool skip_repeats = problem.quant.scale_format != ScaleFormat::Plain;
    // Candidate i's qparams, lane-wise (shrink, above, then lanes_qparams).
    const auto qparams_of = [&](int64_t i, Vec& scale, Vec& zero_point) {
      const Vec p = S::set1(static_cast<float>(1.0 - static_cast<double>(i) / problem.grid));
      lanes_qparams<S, V>(S::template round<V>(S::mul(min0, p)),
                          S::template round<V>(S::mul(max0, p)), problem.quant, scale,
                          zero_point);
    };
    int64_t steps = round.last_candidate - round.first_candidate;
    if (skip_repeats) {
      // Candidate i repeats in the lanes where its qparams equal candidate i - 1's (which equal
      // the lane's last step's), so only the other lanes append it.
      int64_t count[kWidth] = {};
      Vec previous_scale = S::set1(0.0f);
      Vec previous_zero_point = S::set1(0.0f);
      for (int64_t i = round.first_candidate; i < round.last_candidate; ++i) {
        Vec scale;
        Vec zero_point;
        qparams_of(i, scale, zero_point);
        uint32_t fresh = i == round.first_candidate
                             ? (uint32_t{1} << kWidth) - 1
                             : S::unequal_bits(scale, previous_scale) |
                                   S::unequal_bits(zero_point, previous_zero_point);
        previous_scale = scale;
        previous_zero_point = zero_point;
        if (fresh == 0) continue;
        float lane_scale[kWidth];
        float lane_zero_point[kWidth];
        S::store(lane_scale, scale);
        S::store(lane_zero_point, zero_point);
        while (fresh != 0) {
          const int lane = __builtin_ctz(fresh);
          fresh &= fresh - 1;
          const int64_t at = count[lane]++ * kWidth + lane;
          buffers.step_scale[at] = lane_scale[lane];
          buffers.step_zero_point[at] = lane_zero_point[lane];
          buffers.step_candidate[at] = static_cast<float>(i);
        }
      }
      steps = 0;
      for (int64_t lane = 0; lane < kWidth; ++lane) steps = count[lane] > steps ? count[lane] : steps;
      for (int64_t lane = 0; lane < kWidth; ++lane) {
        const int64_t last = (count[lane] - 1) * kWidth + lane;
        for (int64_t j = count[lane]; j < steps; ++j) {
          buffers.step_scale[j * kWidth + lane] = buffers.step_scale[last];
          buffers.step_zero_point[j * kWidth + lane] = buffers.step_zero_point[last];
          buffers.step_candidate[j * kWidth + lane] = buffers.step_candidate[last];
        }
      }
    }
    for (int64_t step = 0; step < steps; ++step) {
      Vec scale;
      Vec zero_point;
      Vec candidate_index;
      if (skip_repeats) {
        scale = S::load(buffers.step_scale + step * kWidth);
        zero_point = S::load(buffers.step_zero_point + step * kWidth);
        candidate_index = S::load(buffers.step_candidate + step * kWidth);
      } else {
        const int64_t i = round.first_candidate + step;
        qparams_of(i, scale, zero_point);
        candidate_index = S::set1(static_cast<float>(i));
      }
      if ((S::less_bits(scale, S::set1(__builtin_inff())) & used_lanes) != used_lanes) {
        note_infinite_scale(problem);
        break;
      }
      static_assert(!is_level_grid(G), "level tables hold one group's levels, not a lane's");
      CandidateVecs<S> candidate;
      candidate.scale = scale;
      candidate.zero_point = zero_point;
      // The errors' table indices, or their pows: those imatrix_mse uses (norm 2 or 3) chosen at
      // compile time rather than tested on every vector, as in weighted_error.
      const auto error_pass = [&]<bool kExactScale, bool kPowKnown, PowKind K>() {
        for (int64_t k = 0; k < size; ++k) {
          const Vec error = quantization_error<S, V, E, G, kExactScale>(
              S::load(buffers.values + k * kWidth), candidate, low, high);
          if (pow_table.values != nullptr) {
            S::store_bits(bits + k * kWidth, S::template bits16<E>(error));
          } else {
            if (has_tails) S::store(buffers.bases + k * kWidth, error);
            if constexpr (kPowKnown) {
              S::store(pows + k * kWidth, element_pow_of<S, E, K>(error, problem.pow));
            } else {
              S::store(pows + k * kWidth, element_pow<S, E>(error, problem.pow));
            }
          }
        }
      };
      const auto error_pass_for_pow = [&]<bool kExactScale>() {
        switch (pow_table.values != nullptr ? PowKind::General : problem.pow.kind) {
          case PowKind::Square:
            error_pass.template operator()<kExactScale, true, PowKind::Square>();
            break;
          case PowKind::Cube:
            error_pass.template operator()<kExactScale, true, PowKind::Cube>();
            break;
          default: error_pass.template operator()<kExactScale, false, PowKind::General>(); break;
        }
      };
      bool exact_scale = false;
      if constexpr (has_exact_scale_form(V, G)) {
        exact_scale = problem.quant.scale_format == ScaleFormat::Mx;  // powers of two
        if (exact_scale) {
          candidate.inverse_scale = S::div(S::set1(1.0f), scale);
          error_pass_for_pow.template operator()<true>();
        }
      }
      if (!exact_scale) error_pass_for_pow.template operator()<false>();
      if (pow_table.values != nullptr) {
        look_up_pows(pow_table.values, bits, pows, size * kWidth);
        for_each_tail_element([&](int64_t j) {
          pows[j] = scalar_pow<S, E>(from_bits16_scalar<E>(bits[j]), problem.pow);
        });
      } else if (has_tails) {
        for_each_tail_element([&](int64_t j) {
          pows[j] = scalar_pow<S, E>(buffers.bases[j], problem.pow);
        });
      }
      const Vec error =
          weighted ? lanes_inner_sum<S, ValueType::Float32, true>(pows,
                                                                  buffers.importance, size)
                   : S::template round<E>(
                         lanes_inner_sum<S, E, false>(pows, nullptr, size));
      // strict: ties keep the wider range.
      uint32_t better = S::less_bits(error, best_error) & used_lanes;
      best = S::select_less(error, best_error, candidate_index, best);
      best_error = S::select_less(error, best_error, error, best_error);
      if (better != 0) {
        float lane_candidate[kWidth];
        if (skip_repeats) S::store(lane_candidate, candidate_index);
        while (better != 0) {
          const int lane = __builtin_ctz(better);
          better &= better - 1;
          const int64_t i = skip_repeats ? static_cast<int64_t>(lane_candidate[lane])
                                         : round.first_candidate + step;
          round.improved_bits[(first_group + lane) * words + (i >> 6)] |= uint64_t{1} << (i & 63);
        }
      }
    }
    S::store(lane_best_error, best_error);
    S::store(lane_best, best);
    for (int64_t lane = 0; lane < lanes; ++lane) {
      const int64_t group = first_group + lane;
      const auto chosen = static_cast<int32_t>(lane_best[lane]);
      round.best_error[group] = lane_best_error[lane];
      round.best[group] = chosen;
      const float min = lane_min[lane];
      const float max = lane_max[lane];
      store_scalar<V>(best_min, group, chosen < 0 ? min : shrink<S, V>(min, problem.grid, chosen));
      store_scalar<V>(best_max, group, chosen < 0 ? max : shrink<S, V>(max, problem.grid, chosen));
    }
  }
}

}  // namespace
}  // namespace llmc::kernels

#undef LLMC_KERNEL_INLINE
