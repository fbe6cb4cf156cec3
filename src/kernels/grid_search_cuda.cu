// CUDA fused grid search: one warp per scale group. The group's values stay in registers (the
// first 8 of each lane's, so up to 256 per group; the rest are re-read through L1), the
// importance row in shared memory, and each candidate's error is a warp reduction (two
// candidates at a time, one per half-warp, where the row needs only 16 lanes); best error and
// range live in registers. Element arithmetic is grid_search_element.hpp's, with ATen CUDA's
// pow (PowKernel.cu: powf or sqrt rounded once; x*x and x*x*x multiplied in E itself). Each
// lane takes the values, accumulators and tree that ATen's CUDA reduction gives the row's
// threads (aten_cuda_lane_sum.hpp, aten_cuda_sum_order.hpp), so the sums are ATen's bit for
// bit when that model holds on the device; the dispatcher checks it with a probe.
// GridSearchBackend::Auto still keeps the reference on CUDA until the equivalence tests have
// passed on a GPU (kernels/grid_search.hpp).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <llmc/kernels/aten_cuda_lane_sum.hpp>

#include "grid_search_element.hpp"

#include <vector>

namespace llmc::kernels {
namespace {

constexpr int kWarpSize = 32;
constexpr int kWarpsPerBlock = 4;
constexpr int kValuesPerLane = 8;  // groups of up to 256 values are held in registers
constexpr int64_t kSharedImportanceBytes = 48 * 1024;

// The kernel's copy of GridSearchProblem: trivially copyable, no host-only members.
struct DeviceProblem {
  int64_t groups;
  int64_t group_size;
  const void* observed;
  const void* initial_min;
  const void* initial_max;
  const float* importance;
  int64_t importance_rows;
  QuantSpec quant;
  double grid;
  float best_error_init;
  PowSpec pow;
  bool importance_in_shared;
  int block_width;  // lanes that hold values (ATen's threads per row); the rest hold 0
};

template <ValueType E>
__device__ float element_pow(float base, const PowSpec& pow) {
  float result = base;
  switch (pow.kind) {
    case PowKind::Identity: break;  // Pow.cpp copies: base is already an E value
    case PowKind::Sqrt: result = __fsqrt_rn(base); break;
    case PowKind::Square: result = __fmul_rn(base, base); break;
    // PowKernel.cu multiplies in E itself (c10::BFloat16 / Half operator*): E rounds twice.
    case PowKind::Cube: result = __fmul_rn(round_to<E>(__fmul_rn(base, base)), base); break;
    case PowKind::General: result = powf(base, pow.exponent); break;
  }
  return round_to<E>(result);
}

// The sum over each run of kSlotLanes lanes (the whole warp, or each half): a butterfly whose
// offsets decrease from kSlotLanes / 2, so that lane 0 of the run adds as ATen's shfl_down tree
// over block_width <= kSlotLanes lanes does (lanes past block_width hold 0, which adds
// exactly), and every lane of the run ends with that sum.
template <int kSlotLanes>
__device__ float slot_sum(float value) {
#pragma unroll
  for (int offset = kSlotLanes / 2; offset > 0; offset /= 2) {
    value = __fadd_rn(value, __shfl_xor_sync(0xffffffffu, value, offset));
  }
  return value;
}

template <ValueType V, ValueType E>
__device__ float element_error(float value, GroupQParams qparams, const DeviceProblem& problem,
                               const float* importance, int64_t k) {
  const float quantized = fake_quantize_value<V>(value, qparams, problem.quant);
  const float error = element_pow<E>(fabsf(round_to<E>(__fsub_rn(quantized, value))), problem.pow);
  return importance == nullptr ? error : __fmul_rn(error, importance[k]);
}

// kSlots = 2 where ATen gives a row at most 16 threads (bf16 rows of 128 read 8 at a time,
// NVFP4's rows of 16): rather than leave half the warp idle, each half-warp evaluates its own
// candidate of the pair (i0, i0 + 1), and every lane then applies both sums in candidate order.
template <ValueType V, ValueType E, int kVec, int kSlots>
__global__ void grid_search_kernel(DeviceProblem problem, int64_t candidates,
                                   typename StorageOf<V>::type* best_min,
                                   typename StorageOf<V>::type* best_max, int* improved) {
  static_assert(kSlots == 1 || kSlots == 2, "one or two candidates per warp");
  constexpr int kSlotLanes = kWarpSize / kSlots;
  using Storage = typename StorageOf<V>::type;
  extern __shared__ float shared_importance[];
  const int warp = threadIdx.x / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  const int slot = lane / kSlotLanes;     // which candidate of the pair
  const int row_lane = lane % kSlotLanes;  // ATen's thread of the row
  const int64_t group = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + warp;
  if (group >= problem.groups) return;  // the whole warp: group is per warp
  const int64_t size = problem.group_size;
  const Storage* observed = static_cast<const Storage*>(problem.observed) + group * size;

  const int block_width = problem.block_width;
  float values[kValuesPerLane];
#pragma unroll
  for (int j = 0; j < kValuesPerLane; ++j) {
    const int64_t k = AtenLaneOrder<kVec>::element(row_lane, j, block_width, size);
    values[j] = k >= 0 ? static_cast<float>(observed[k]) : 0.0f;
  }
  const float* importance = nullptr;
  if (problem.importance != nullptr) {
    importance = problem.importance + (group % problem.importance_rows) * size;
    if (problem.importance_in_shared) {
      float* staged = shared_importance + warp * size;
      for (int64_t k = lane; k < size; k += kWarpSize) staged[k] = importance[k];
      __syncwarp();
      importance = staged;
    }
  }

  const float min0 = static_cast<float>(static_cast<const Storage*>(problem.initial_min)[group]);
  const float max0 = static_cast<float>(static_cast<const Storage*>(problem.initial_max)[group]);
  float best_error = problem.best_error_init;
  float best_lo = min0;
  float best_hi = max0;
  for (int64_t i0 = 0; i0 < candidates; i0 += kSlots) {
    // A slot past the last candidate evaluates the last one again; its sum is not used.
    const int64_t mine = i0 + slot < candidates ? i0 + slot : candidates - 1;
    const GroupQParams qparams = group_qparams<V>(shrink<V>(min0, problem.grid, mine),
                                                  shrink<V>(max0, problem.grid, mine),
                                                  problem.quant);
    // ATen's thread_reduce over this lane's values, then its tree.
    const auto held = [&](int64_t j, int64_t k) {
      return element_error<V, E>(values[j], qparams, problem, importance, k);
    };
    const auto loaded = [&](int64_t, int64_t k) {
      return element_error<V, E>(static_cast<float>(observed[k]), qparams, problem, importance, k);
    };
    float error = slot_sum<kSlotLanes>(
        aten_lane_sum<kVec, kValuesPerLane>(row_lane, block_width, size, held, loaded));
    if (importance == nullptr) error = round_to<E>(error);
#pragma unroll
    for (int s = 0; s < kSlots; ++s) {
      const int64_t i = i0 + s;
      if (i >= candidates) break;  // the same for every lane
      const float candidate_error =
          kSlots == 1 ? error : __shfl_sync(0xffffffffu, error, s * kSlotLanes);
      if (candidate_error < best_error) {  // the same value in every lane: the warp agrees
        best_error = candidate_error;
        best_lo = shrink<V>(min0, problem.grid, i);
        best_hi = shrink<V>(max0, problem.grid, i);
        if (lane == 0) improved[i] = 1;
      }
    }
  }
  if (lane == 0) {
    best_min[group] = static_cast<Storage>(best_lo);
    best_max[group] = static_cast<Storage>(best_hi);
  }
}

template <ValueType V, ValueType E, int kVec, int kSlots>
void launch(const DeviceProblem& problem, int64_t candidates, void* best_min, void* best_max,
            int* improved) {
  using Storage = typename StorageOf<V>::type;
  const int64_t blocks = (problem.groups + kWarpsPerBlock - 1) / kWarpsPerBlock;
  const size_t shared_bytes =
      problem.importance_in_shared ? kWarpsPerBlock * problem.group_size * sizeof(float) : 0;
  grid_search_kernel<V, E, kVec, kSlots>
      <<<static_cast<unsigned>(blocks), kWarpsPerBlock * kWarpSize, shared_bytes,
         at::cuda::getCurrentCUDAStream()>>>(problem, candidates, static_cast<Storage*>(best_min),
                                             static_cast<Storage*>(best_max), improved);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

template <ValueType V, ValueType E>
void launch_for_order(const DeviceProblem& problem, int vec, int64_t candidates, void* best_min,
                      void* best_max, int* improved) {
  // Rows of at most 16 threads take two candidates per warp. 4-wide vector rows (128 values
  // or more) always have 32.
  const bool pairs = problem.block_width <= kWarpSize / 2;
  switch (vec) {
    case 4: launch<V, E, 4, 1>(problem, candidates, best_min, best_max, improved); break;
    case 8:
      if (pairs) {
        launch<V, E, 8, 2>(problem, candidates, best_min, best_max, improved);
      } else {
        launch<V, E, 8, 1>(problem, candidates, best_min, best_max, improved);
      }
      break;
    default:
      if (pairs) {
        launch<V, E, 0, 2>(problem, candidates, best_min, best_max, improved);
      } else {
        launch<V, E, 0, 1>(problem, candidates, best_min, best_max, improved);
      }
      break;
  }
}

template <ValueType V>
void launch_for_error_type(const DeviceProblem& problem, bool error_in_fp32, int vec,
                           int64_t candidates, void* best_min, void* best_max, int* improved) {
  if (error_in_fp32) {
    launch_for_order<V, ValueType::Float32>(problem, vec, candidates, best_min, best_max, improved);
  } else {
    launch_for_order<V, V>(problem, vec, candidates, best_min, best_max, improved);
  }
}

}  // namespace

// Evaluates candidates [0, candidates) without early stop; returns, per candidate, whether any
// group strictly improved.
static std::vector<uint8_t> run_candidates(const GridSearchProblem& problem, int64_t candidates,
                                    void* best_min, void* best_max) {
  DeviceProblem device_problem{problem.groups,        problem.group_size,
                               problem.observed,      problem.initial_min,
                               problem.initial_max,   problem.importance,
                               problem.importance_rows, problem.quant,
                               problem.grid,          problem.best_error_init,
                               problem.pow,           false,
                               problem.cuda_block_width};
  device_problem.importance_in_shared =
      problem.importance != nullptr &&
      kWarpsPerBlock * problem.group_size * static_cast<int64_t>(sizeof(float)) <=
          kSharedImportanceBytes;
  at::Tensor improved = at::zeros(
      {candidates}, at::TensorOptions().dtype(at::kInt).device(at::kCUDA, at::cuda::current_device()));
  int* flags = improved.data_ptr<int>();
  switch (problem.value_type) {
    case ValueType::Float32:
      launch_for_error_type<ValueType::Float32>(device_problem, problem.error_in_fp32,
                                                problem.cuda_sum_vec, candidates,
                                                best_min, best_max, flags);
      break;
    case ValueType::Float16:
      launch_for_error_type<ValueType::Float16>(device_problem, problem.error_in_fp32,
                                                problem.cuda_sum_vec, candidates,
                                                best_min, best_max, flags);
      break;
    case ValueType::BFloat16:
      launch_for_error_type<ValueType::BFloat16>(device_problem, problem.error_in_fp32,
                                                 problem.cuda_sum_vec, candidates, best_min, best_max, flags);
      break;
  }
  const at::Tensor host = improved.cpu();
  std::vector<uint8_t> result(candidates);
  for (int64_t i = 0; i < candidates; ++i) result[i] = host.data_ptr<int>()[i] != 0;
  return result;
}

// The global patience rule needs every candidate's "any group improved" flag, which only the
// full run gives; when it stops early, the candidates before the stop are searched again.
void grid_search_cuda(const GridSearchProblem& problem, void* best_min, void* best_max) {
  const std::vector<uint8_t> improved =
      run_candidates(problem, problem.candidates, best_min, best_max);
  const int64_t stop = patience_stop(improved.data(), problem.candidates, problem);
  if (stop < problem.candidates) run_candidates(problem, stop, best_min, best_max);
}

}  // namespace llmc::kernels
