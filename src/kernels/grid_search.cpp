// Validation and device dispatch of the fused grid search; the kernels are in
// grid_search_cpu.cpp and grid_search_cuda.cu. Everything the reference decides per call
// (dtype of each step, pow specialisation, where ATen's pow ran scalar code, the patience rule)
// is resolved here into a plain GridSearchProblem.
#include <llmc/kernels/grid_search.hpp>
#include <llmc/kernels/aten_cuda_sum_order.hpp>

#include <ATen/ExpandUtils.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <c10/core/DeviceGuard.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>
#include <llmc/error.hpp>
#include <llmc/quant/qparams.hpp>
#include <sstream>

#include "../quant/dtype_limits.hpp"
#include "grid_search_cpu_isa.hpp"
#include "grid_search_element.hpp"
#include "grid_search_group_errors.hpp"
#include "grid_search_single_group.hpp"

namespace llmc {
namespace {

using kernels::GridSearchProblem;
using kernels::PowKind;
using kernels::PowSpec;
using kernels::Rounding;
using kernels::ScalarRange;
using kernels::ValueType;

using kernels::kAtenGrainSize;

std::optional<ValueType> value_type_of(c10::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return ValueType::Float32;
    case at::kHalf: return ValueType::Float16;
    case at::kBFloat16: return ValueType::BFloat16;
    default: return std::nullopt;
  }
}

// The search drops TENSOR_GROUP's FP8 scale rounding, as the reference does (LC §5.3).
QuantizationArgs search_args_of(const QuantizationArgs& args) {
  QuantizationArgs search_args = args;
  if (args.strategy() == QuantizationStrategy::TensorGroup) search_args.scale_dtype(std::nullopt);
  return search_args;
}

// "AVX512" / "AVX2" where ATen's vectorised kernels (and the Sleef pow they call) run.
std::optional<std::string> unsupported_cpu() {
  const std::string capability = at::get_cpu_capability();
  if (capability == "AVX512" || capability == "AVX2") return std::nullopt;
  return "ATen CPU capability " + capability + " (the CPU kernel reproduces AVX2/AVX512 ATen)";
}

// How the kernels round the search's scales (no scale_dtype, MX exponents, FP8), or nullopt
// for a scale_dtype they do not reproduce.
std::optional<kernels::ScaleFormat> scale_format_of(const QuantizationArgs& args) {
  if (!args.scale_dtype().has_value()) return kernels::ScaleFormat::Plain;
  if (args.is_mx()) return kernels::ScaleFormat::Mx;
  if (*args.scale_dtype() == at::kFloat8_e4m3fn) return kernels::ScaleFormat::Fp8E4M3;
  return std::nullopt;
}

std::optional<std::string> unsupported_args(const QuantizationArgs& args) {
  if (!args.strategy().has_value() || !args.zp_dtype().has_value()) {
    return std::string("QuantizationArgs must be validated first");
  }
  if (!scale_format_of(args).has_value()) {
    return "scale_dtype " + torch_dtype_name(*args.scale_dtype()) +
           " (the fused kernels round scales to float8_e4m3fn or MX exponents (uint8, float "
           "groups of 32); other scale dtypes use the reference)";
  }
  if (args.type() == QuantizationType::Int) {
    if (args.num_bits() > 8) return "int num_bits " + std::to_string(args.num_bits()) + " > 8";
    if (!args.symmetric() && *args.zp_dtype() != at::kChar) {
      return "zp_dtype " + torch_dtype_name(*args.zp_dtype()) + " (supported: int8)";
    }
    return std::nullopt;
  }
  if (args.num_bits() != 8 && args.num_bits() != 4) {
    return "float num_bits " + std::to_string(args.num_bits());
  }
  if (!args.symmetric()) return std::string("asymmetric float quantization");
  return std::nullopt;
}

std::optional<std::string> unsupported_importance(const at::Tensor& observed,
                                                  const std::optional<at::Tensor>& importance) {
  if (!importance.has_value()) return std::nullopt;
  if (importance->scalar_type() != at::kFloat) return std::string("importance must be fp32");
  if (importance->device() != observed.device()) return std::string("importance on another device");
  if (!at::is_expandable_to(importance->sizes(), observed.sizes())) {
    return std::string("importance does not broadcast against the observed values");
  }
  return std::nullopt;
}

// One qparam for all of `observed` (TENSOR strategy): the search is one group of every value.
bool single_flat_group(const at::Tensor& observed) {
  return observed.numel() / observed.size(0) / observed.size(-1) == 1;
}

std::optional<std::string> unsupported_layout(const at::Tensor& observed, bool require_exact) {
  if (!value_type_of(observed.scalar_type()).has_value()) {
    return "dtype " + std::string(c10::toString(observed.scalar_type())) +
           " (supported: float32, float16, bfloat16)";
  }
  if (observed.dim() < 2) return std::string("observed must be (N, *qparam_shape, G)");
  if (!observed.is_contiguous()) return std::string("observed must be contiguous");
  if (observed.numel() == 0) return std::string("observed is empty");
  // N > 1 observations with one qparam sum over one flat range of all their values, as a
  // single group does (the TensorIterator coalesces the contiguous dims); with several qparams
  // ATen reduces over two separate dims, in an order the kernels do not replay.
  if (observed.size(0) != 1 && !(single_flat_group(observed) && observed.is_cpu())) {
    return std::string("observations (N > 1) use the reference, except on CPU with one qparam");
  }
  if (require_exact && single_flat_group(observed) && !observed.is_cpu()) {
    return std::string("a single scale group on CUDA: ATen splits that sum across blocks");
  }
  return std::nullopt;
}

std::optional<std::string> unsupported_device(const at::Tensor& observed, bool require_exact) {
  if (observed.is_cpu()) return unsupported_cpu();
  if (observed.is_cuda()) {
#ifdef LLMC_WITH_CUDA
    if (require_exact) {
      // The kernel adds in ATen's CUDA order, as the device probe confirms it per shape
      // (cuda_sum_order below), but neither that nor the kernel's element arithmetic has yet
      // been compared with the reference on a GPU: until the CUDA equivalence tests have
      // passed on one, Auto keeps the reference there.
      return std::string("CUDA: the fused kernel has not yet been checked against the reference "
                         "on a GPU (use backend Fused)");
    }
    return std::nullopt;
#else
    (void)require_exact;
    return std::string("llmc was built without CUDA kernels (LLMC_WITH_CUDA)");
#endif
  }
  return "device " + observed.device().str();
}

// ATen's pow(norm) on the error dtype: which specialisation runs and the exponent it uses
// (Scalar.to<bf16/half> rounds 2.4 to 2.40625 / 2.400390625). Pow.cpp copies for norm 1 on
// every device. On CPU (PowKernel.cpp) Half has no specialisations, and fp32 tests the double
// norm; on CUDA (PowKernel.cu) sqrt is taken for norm 0.5 on every dtype, and x*x / x*x*x
// where the exponent as the error dtype rounds it is 2 / 3.
PowSpec pow_spec(c10::ScalarType error_dtype, double norm, bool cuda) {
  PowSpec spec;
  spec.exponent_double = norm;
  spec.exponent = static_cast<float>(norm);
  if (norm == 1.0) {
    spec.kind = PowKind::Identity;
    return spec;
  }
  if (cuda) {
    if (norm == 0.5) {
      spec.kind = PowKind::Sqrt;
      return spec;
    }
    if (error_dtype == at::kHalf) {
      spec.exponent = static_cast<float>(c10::Half(spec.exponent));
    } else if (error_dtype == at::kBFloat16) {
      spec.exponent = static_cast<float>(c10::BFloat16(spec.exponent));
    }
    if (spec.exponent == 2.0f) spec.kind = PowKind::Square;
    if (spec.exponent == 3.0f) spec.kind = PowKind::Cube;
    return spec;
  }
  if (error_dtype == at::kHalf) {
    spec.exponent = static_cast<float>(c10::Half(static_cast<float>(norm)));
    return spec;
  }
  if (norm == 0.5) {
    spec.kind = PowKind::Sqrt;
    return spec;
  }
  if (error_dtype == at::kBFloat16) {
    spec.exponent = static_cast<float>(c10::BFloat16(static_cast<float>(norm)));
  }
  const double exponent = error_dtype == at::kBFloat16 ? spec.exponent : norm;
  if (exponent == 2.0) spec.kind = PowKind::Square;
  if (exponent == 3.0) spec.kind = PowKind::Cube;
  return spec;
}

// Where ATen's elementwise pow over `numel` values ran its scalar tail: TensorIterator splits
// the flat range into at::parallel_for chunks, and each chunk's vectorised loop leaves
// `numel % (2 * Vectorized::size())` values to std::pow.
std::vector<ScalarRange> scalar_pow_ranges(int64_t numel, c10::ScalarType error_dtype,
                                           bool avx512) {
  const int64_t float_lanes = avx512 ? 16 : 8;
  const int64_t step = 2 * (error_dtype == at::kFloat ? float_lanes : 2 * float_lanes);
  const int64_t threads = at::in_parallel_region() ? 1 : at::get_num_threads();
  int64_t chunks = 1;
  if (numel > kAtenGrainSize && threads > 1) {
    chunks = std::min(threads, (numel + kAtenGrainSize - 1) / kAtenGrainSize);
  }
  const int64_t chunk = (numel + chunks - 1) / chunks;
  std::vector<ScalarRange> ranges;
  for (int64_t begin = 0; begin < numel; begin += chunk) {
    const int64_t end = std::min(numel, begin + chunk);
    const int64_t vector_end = begin + (end - begin) / step * step;
    if (vector_end < end) ranges.push_back({vector_end, end});
  }
  return ranges;
}

kernels::QuantSpec quant_spec(const QuantizationArgs& args, c10::ScalarType dtype) {
  kernels::QuantSpec spec;
  spec.rounding = args.type() == QuantizationType::Int ? Rounding::Int
                  : args.num_bits() == 8               ? Rounding::Fp8E4M3
                                                       : Rounding::Fp4E2M1;
  spec.symmetric = args.symmetric();
  spec.q_min = static_cast<float>(args.q_min());
  spec.q_max = static_cast<float>(args.q_max());
  // (bit_max - bit_min).to(dtype), and / 2 for the symmetric divisor, both in dtype.
  const auto round = [dtype](float v) { return at::scalar_tensor(v, dtype).item<float>(); };
  spec.range = round(spec.q_max - spec.q_min);
  spec.half_range = round(spec.range / 2.0f);
  spec.scale_eps = static_cast<float>(scale_eps(args.scale_dtype().value_or(dtype)));
  spec.scale_format = *scale_format_of(args);
  if (spec.scale_format == kernels::ScaleFormat::Mx) {
    spec.mx_exponent_offset = args.num_bits() == 4 ? 2 : 8;
  }
  return spec;
}

// Importance as rows of G weights, group g using row g % rows: the imatrix observer passes a
// column vector expanded over the weight rows, which needs no copy.
std::pair<at::Tensor, int64_t> importance_rows(const at::Tensor& importance,
                                               const at::Tensor& observed) {
  const at::Tensor expanded = importance.expand(observed.sizes());
  const auto sizes = expanded.sizes();
  const auto strides = expanded.strides();
  int64_t dim = expanded.dim();
  int64_t contiguous_numel = 1;
  while (dim > 0 && (sizes[dim - 1] == 1 || strides[dim - 1] == contiguous_numel)) {
    contiguous_numel *= sizes[dim - 1];
    --dim;
  }
  bool broadcast_outer = dim < expanded.dim();
  for (int64_t d = 0; d < dim; ++d) broadcast_outer &= strides[d] == 0 || sizes[d] == 1;
  const int64_t group_size = single_flat_group(observed) ? observed.numel() : observed.size(-1);
  if (broadcast_outer && contiguous_numel % group_size == 0) {
    return {expanded, contiguous_numel / group_size};
  }
  return {expanded.contiguous(), observed.numel() / group_size};
}

// The summation order of the reference's error sums on this device: ATen's, as the probe
// confirms it (the width of its vector loads is the one thing its headers do not say).
// Where the model does not cover the shape (ATen would split rows across warps), the kernel
// adds strided over a full warp, and where the probe confirms no vector width it uses the
// likeliest: Fused may then differ from the reference in near-ties.
struct CudaSumOrder {
  int vec = 0;  // 0: strided
  int block_width = 32;
};

CudaSumOrder cuda_sum_order(const at::Tensor& observed, c10::ScalarType summed_dtype) {
  const int64_t group_size = observed.size(-1);
  const int64_t rows = observed.numel() / group_size;
  const int element_bytes = static_cast<int>(c10::elementSize(summed_dtype));
  const std::optional<int> vec =
      kernels::probe_aten_cuda_sum_order(group_size, rows, summed_dtype, observed.device());
  const kernels::AtenCudaSumOrder order = kernels::aten_cuda_sum_order(
      group_size, rows, vec.value_or(kernels::aten_cuda_vec_candidates(element_bytes)[0]));
  CudaSumOrder result;
  if (!order.unsupported.empty()) return result;
  result.vec = order.vectorized ? order.vec : 0;
  result.block_width = order.block_width;
  return result;
}

c10::ScalarType summed_dtype_of(const at::Tensor& observed, const GridSearchOptions& options,
                                const std::optional<at::Tensor>& importance) {
  // Errors are summed in the error dtype; with importance, after the fp32 multiply.
  if (importance.has_value() || options.error_in_fp32()) return at::kFloat;
  return observed.scalar_type();
}

void run_kernel(const at::Tensor& observed, const GridSearchProblem& problem,
                at::Tensor& best_min, at::Tensor& best_max) {
#ifdef LLMC_WITH_CUDA
  if (observed.is_cuda()) {
    const c10::DeviceGuard device_guard(observed.device());
    kernels::grid_search_cuda(problem, best_min.data_ptr(), best_max.data_ptr());
    return;
  }
#endif
  (void)observed;
  kernels::grid_search_cpu(problem, best_min.data_ptr(), best_max.data_ptr());
}

}  // namespace

std::optional<std::string> fused_grid_search_unsupported(
    const at::Tensor& observed, const QuantizationArgs& args, const GridSearchOptions& options,
    const std::optional<at::Tensor>& importance, bool require_exact) {
  if (auto reason = unsupported_layout(observed, require_exact)) return reason;
  if (auto reason = unsupported_device(observed, require_exact)) return reason;
  const QuantizationArgs search_args = search_args_of(args);
  if (auto reason = unsupported_args(search_args)) return reason;
  if (search_args.scale_dtype().has_value() && !observed.is_cpu()) {
    return std::string("scale_dtype on CUDA (the CUDA kernel computes unrounded scales only)");
  }
  if (auto reason = unsupported_importance(observed, importance)) return reason;
  if (!(options.grid() > 0.0) || !std::isfinite(options.norm()) || options.norm() <= 0.0) {
    return std::string("grid must be > 0 and norm finite and > 0");
  }
  return std::nullopt;
}

namespace {

// What the test seams ask of a CPU search (see GridSearchProblem): where each evaluated
// candidate's error goes, whether the error memo is built, and where its use is counted.
struct SearchSeams {
  float* candidate_errors = nullptr;
  bool candidate_sums = false;
  kernels::ErrorMemoUse error_memo = kernels::ErrorMemoUse::Auto;
  int64_t* memo_group_rounds = nullptr;
};

// fused_grid_search, with the test seams' requests.
std::pair<at::Tensor, at::Tensor> run_fused_grid_search(const at::Tensor& observed,
                                                        const QuantizationArgs& args,
                                                        const GridSearchOptions& options,
                                                        const std::optional<at::Tensor>& importance,
                                                        const SearchSeams& seams) {
  if (auto reason = fused_grid_search_unsupported(observed, args, options, importance,
                                                  /*require_exact=*/false)) {
    throw Error("fused_grid_search: " + *reason);
  }
  const QuantizationArgs search_args = search_args_of(args);
  const c10::ScalarType dtype = observed.scalar_type();
  const c10::ScalarType error_dtype = options.error_in_fp32() ? at::kFloat : dtype;
  GridSearchProblem problem;
  problem.value_type = *value_type_of(dtype);
  problem.group_size = single_flat_group(observed) ? observed.numel() : observed.size(-1);
  problem.groups = observed.numel() / problem.group_size;
  problem.observed = observed.data_ptr();
  problem.sleef_avx512 = at::get_cpu_capability() == "AVX512";

  // The starting range: amin/amax over the group (exact, so the kernel's one pass on CPU gives
  // the same values), then the reference's own `* expand` in the weight dtype.
  at::Tensor group_min;
  at::Tensor group_max;
  std::optional<bool> values_finite;  // known on CPU
  if (observed.is_cpu()) {
    const auto sizes = observed.sizes();
    const std::vector<int64_t> range_shape(sizes.begin() + 1, sizes.end() - 1);
    group_min = at::empty(range_shape, observed.options());
    group_max = at::empty(range_shape, observed.options());
    values_finite = kernels::group_ranges_cpu(problem, group_min.data_ptr(), group_max.data_ptr());
    // Which zero at::amin / at::amax return among +0 and -0 depends on their reduction order:
    // groups whose range ends at zero (all-zero ones, say) take ATen's, from the same call on
    // just those groups (a row's reduction order does not depend on the other rows).
    const at::Tensor zero_ended =
        group_min.eq(0).logical_or(group_max.eq(0)).view({-1}).nonzero().view({-1});
    if (zero_ended.numel() > 0) {
      // A single output would make ATen split the row between threads (its two-pass
      // reduction), which the full tensor's reduction did not: a lone group goes in twice.
      const int64_t count = zero_ended.numel();
      const at::Tensor rows =
          count == 1 && problem.groups > 1 ? zero_ended.repeat({2}) : zero_ended;
      const at::Tensor groups =
          observed.view({problem.groups, problem.group_size}).index_select(0, rows).unsqueeze(0);
      const at::Tensor aten_min = at::amin(groups, {0, -1}).narrow(0, 0, count);
      const at::Tensor aten_max = at::amax(groups, {0, -1}).narrow(0, 0, count);
      group_min.view({-1}).index_copy_(0, zero_ended, aten_min);
      group_max.view({-1}).index_copy_(0, zero_ended, aten_max);
    }
  } else {
    group_min = at::amin(observed, {0, -1});
    group_max = at::amax(observed, {0, -1});
  }
  // x * 1.0 is x, so the default expand needs no multiply; and then the ranges are finite
  // exactly when the values are, which the CPU pass has told (ATen's isfinite, all and item
  // had cost 0.3 ms of a 7 ms search on 1024x4096).
  const bool unexpanded = options.expand() == 1.0;
  const at::Tensor min_val = unexpanded ? group_min : (group_min * options.expand()).contiguous();
  const at::Tensor max_val = unexpanded ? group_max : (group_max * options.expand()).contiguous();
  const bool finite =
      unexpanded && values_finite.has_value()
          ? *values_finite
          : at::isfinite(min_val).all().logical_and(at::isfinite(max_val).all()).item<bool>();
  if (!finite) calculate_qparams(min_val, max_val, search_args);  // throws the reference's error
  const int64_t candidates = options.num_candidates();
  if (candidates == 0) return {min_val.clone(), max_val.clone()};

  problem.initial_min = min_val.data_ptr();
  problem.initial_max = max_val.data_ptr();
  at::Tensor importance_storage;
  if (importance.has_value()) {
    std::tie(importance_storage, problem.importance_rows) = importance_rows(*importance, observed);
    problem.importance = importance_storage.data_ptr<float>();
  }
  problem.quant = quant_spec(search_args, dtype);
  problem.grid = options.grid();
  problem.candidates = candidates;
  problem.patience = options.patience();
  problem.patience_zero_means_never = options.patience_zero_means_never();
  problem.error_in_fp32 = options.error_in_fp32();
  problem.best_error_init = static_cast<float>(float_limits(error_dtype).max);  // finfo.max
  problem.pow = pow_spec(error_dtype, options.norm(), observed.is_cuda());
  std::vector<ScalarRange> tails;
  if (observed.is_cpu() && problem.pow.kind == PowKind::General) {
    tails = scalar_pow_ranges(observed.numel(), error_dtype, problem.sleef_avx512);
    problem.scalar_pow_ranges = tails.data();
    problem.scalar_pow_range_count = static_cast<int64_t>(tails.size());
  }

  if (observed.is_cuda()) {
    const CudaSumOrder order = cuda_sum_order(observed, summed_dtype_of(observed, options, importance));
    problem.cuda_sum_vec = order.vec;
    problem.cuda_block_width = order.block_width;
  }

  problem.candidate_errors = seams.candidate_errors;
  problem.candidate_sums = seams.candidate_sums;
  problem.error_memo = seams.error_memo;
  problem.memo_group_rounds = seams.memo_group_rounds;
  int32_t infinite_scale = 0;
  problem.infinite_scale = &infinite_scale;

  at::Tensor best_min = at::empty_like(min_val);
  at::Tensor best_max = at::empty_like(max_val);
  run_kernel(observed, problem, best_min, best_max);
  if (infinite_scale != 0) {
    // A candidate's scale overflowed (candidate 0's, which every search evaluates, as the
    // scale only shrinks with the range): the reference raises its own error there.
    return grid_search_mse(observed, args,
                           GridSearchOptions(options).backend(GridSearchBackend::Reference),
                           importance);
  }
  return {best_min, best_max};
}

}  // namespace

std::pair<at::Tensor, at::Tensor> fused_grid_search(const at::Tensor& observed,
                                                    const QuantizationArgs& args,
                                                    const GridSearchOptions& options,
                                                    const std::optional<at::Tensor>& importance) {
  return run_fused_grid_search(observed, args, options, importance, SearchSeams{});
}

namespace kernels {

std::vector<float> single_group_candidate_errors(const at::Tensor& observed,
                                                 const QuantizationArgs& args,
                                                 const GridSearchOptions& options,
                                                 const std::optional<at::Tensor>& importance,
                                                 ErrorMemoUse value_counts,
                                                 int64_t* counted_sums) {
  if (!observed.is_cpu() || !single_flat_group(observed)) {
    throw Error("single_group_candidate_errors: a single scale group on CPU only");
  }
  const GridSearchOptions every =
      GridSearchOptions(options).patience(0).patience_zero_means_never(true);
  std::vector<float> errors(static_cast<size_t>(every.num_candidates()),
                            std::numeric_limits<float>::quiet_NaN());
  int64_t counted = 0;
  run_fused_grid_search(observed, args, every, importance,
                        SearchSeams{errors.data(), false, value_counts, &counted});
  if (counted_sums != nullptr) *counted_sums = counted;
  return errors;
}

GroupCandidateErrors group_candidate_errors(const at::Tensor& observed,
                                            const QuantizationArgs& args,
                                            const GridSearchOptions& options,
                                            const std::optional<at::Tensor>& importance,
                                            ErrorMemoUse error_memo, bool sums) {
  if (!observed.is_cpu() || single_flat_group(observed) || observed.size(-1) <= kLanesMaxGroupSize) {
    throw Error("group_candidate_errors: the group layout on CPU only (groups of more than " +
                std::to_string(kLanesMaxGroupSize) + " values, more than one group)");
  }
  const GridSearchOptions every =
      GridSearchOptions(options).patience(0).patience_zero_means_never(true);
  const int64_t groups = observed.numel() / observed.size(-1);
  GroupCandidateErrors result;
  result.errors.assign(static_cast<size_t>(groups * every.num_candidates()),
                       std::numeric_limits<float>::quiet_NaN());
  run_fused_grid_search(observed, args, every, importance,
                        SearchSeams{result.errors.data(), sums, error_memo,
                                    &result.memo_group_rounds});
  return result;
}

}  // namespace kernels

}  // namespace llmc
