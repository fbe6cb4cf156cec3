// Searches whose scales calculate_qparams rounds by scale_dtype: MX (float groups of 32 with
// uint8 E8M0 exponents, LC §6.4) and FP8 E4M3 scales. The kernels' candidate qparams against
// calculate_qparams for every 16-bit range bound, and the fused searches against the reference
// loop, bit for bit; also scales of inf, which the reference refuses.
#include <llmc/error.hpp>
#include <llmc/kernels/grid_search.hpp>
#include <llmc/observers/grid_search.hpp>
#include <llmc/observers/helpers.hpp>
#include <llmc/quant/fp4.hpp>
#include <llmc/quant/qparams.hpp>

#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "support/candidate_qparams.hpp"
#include "support/mismatches.hpp"
#include "support/quantization_errors.hpp"
#include "support/catch.hpp"

using llmc::GridSearchBackend;
using llmc::GridSearchOptions;
using llmc::QuantizationArgs;
using llmc::QuantizationStrategy;
using llmc::QuantizationType;
using llmc::test::KernelDtype;
using llmc::test::KernelQParamsSpec;
using llmc::test::KernelScaleFormat;

namespace {

QuantizationArgs mx_args(int64_t bits) {
  return QuantizationArgs()
      .num_bits(bits)
      .type(QuantizationType::Float)
      .group_size(32)
      .scale_dtype(at::kByte)
      .zp_dtype(at::kByte)
      .validated();
}

QuantizationArgs fp8_scaled_int4(bool symmetric, int64_t group_size) {
  return QuantizationArgs()
      .num_bits(4)
      .symmetric(symmetric)
      .group_size(group_size)
      .scale_dtype(at::kFloat8_e4m3fn)
      .validated();
}

KernelDtype kernel_dtype(c10::ScalarType dtype) {
  if (dtype == at::kHalf) return KernelDtype::Float16;
  if (dtype == at::kBFloat16) return KernelDtype::BFloat16;
  return KernelDtype::Float32;
}

// Every non-negative finite value of a 16-bit dtype; for fp32, 2^18 random finite patterns and
// the edges (zero, subnormals, the power-of-two rounding's carry at 1.75 * 2^k, the largest).
at::Tensor every_magnitude(c10::ScalarType dtype) {
  if (dtype == at::kFloat) {
    at::manual_seed(31);
    at::Tensor bits = at::randint(0, 0x7F800000, {1 << 18}, at::kLong).to(at::kInt);
    const std::vector<float> edges = {0.0f, std::numeric_limits<float>::denorm_min(),
                                      0x1.cp-127f, 0x1.bffffep-127f, 0x1.cp-126f,
                                      0x1.bffffep+3f, 0x1.cp+3f, 0x1.bffffep+127f, 0x1.cp+127f,
                                      std::numeric_limits<float>::max()};
    return at::cat({bits.view(at::kFloat), at::tensor(edges)});
  }
  at::Tensor bits = at::arange(0, 0x8000, at::kInt).to(at::kShort).view(dtype);
  return bits.masked_select(at::isfinite(bits));
}

std::vector<float> as_floats(const at::Tensor& t) {
  const at::Tensor f = t.to(at::kFloat).contiguous();
  return std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
}

// How many entries differ bit for bit between the kernel's values (floats holding `dtype`
// values) and the reference's tensor.
int64_t differing(const std::vector<float>& kernel, const at::Tensor& reference) {
  const at::Tensor got = at::tensor(kernel).to(reference.scalar_type());
  const auto bits = [](const at::Tensor& t) {
    return t.contiguous().view(t.element_size() == 4 ? at::kInt : at::kShort);
  };
  return bits(got).ne(bits(reference)).sum().item<int64_t>();
}

KernelQParamsSpec spec_for(c10::ScalarType dtype, const QuantizationArgs& args) {
  KernelQParamsSpec spec;
  spec.dtype = kernel_dtype(dtype);
  spec.symmetric = args.symmetric();
  spec.q_min = static_cast<float>(args.q_min());
  spec.q_max = static_cast<float>(args.q_max());
  spec.range = spec.q_max - spec.q_min;  // exact in every dtype for these grids
  spec.half_range = spec.range / 2.0f;
  if (args.is_mx()) {
    spec.scale_format = KernelScaleFormat::Mx;
    spec.mx_exponent_offset = args.num_bits() == 4 ? 2 : 8;
    spec.scale_eps = 1.0f;
  } else {
    spec.scale_format = KernelScaleFormat::Fp8E4M3;
    spec.scale_eps = 0.125f;
  }
  return spec;
}

// Gaussian weights with outliers, and rows that reach the scale rounding's edge cases: all
// zero; tiny values (subnormal, for fp16 around 0.75 * 2^-14, where its power-of-two rounding
// differs from fp32's); maxima at and just below 1.75 * 2^k (the rounding's carry).
at::Tensor edge_weight(int64_t rows, int64_t cols, c10::ScalarType dtype, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor weight = at::randn({rows, cols}) * 0.05;
  weight = at::where(at::rand({rows, cols}) < 0.01, weight * 40, weight);
  weight[0].zero_();
  const double tiny = dtype == at::kHalf ? 6e-5 : 2e-38;
  weight[1] = (at::rand({cols}) - 0.5) * (2 * tiny);
  const float carry = 0x1.cp-3f;  // 1.75 * 2^-3
  const float below = dtype == at::kFloat       ? std::nextafter(carry, 0.0f)
                      : dtype == at::kBFloat16 ? 0x1.bep-3f
                                               : 0x1.bfcp-3f;
  weight[2] = at::randn({cols}) * 0.02;
  weight[2].slice(0, 0, cols, 64).fill_(carry);
  weight[2].slice(0, 32, cols, 64).fill_(-below);
  return weight.to(dtype);
}

// Empty when the fused search (and Auto) chose the reference's ranges bit for bit.
std::string compare(const at::Tensor& weight, const QuantizationArgs& args,
                    const GridSearchOptions& options, bool with_importance) {
  const at::Tensor observed = llmc::flatten_for_calibration(weight, "weight", args);
  std::optional<at::Tensor> importance;
  if (with_importance) {
    const at::Tensor columns = at::rand({weight.size(1)}).pow(4) + 1e-3;
    importance = llmc::flatten_for_calibration(
        (columns / columns.mean()).unsqueeze(0).expand({weight.size(0), -1}), "weight", args);
  }
  if (const auto reason = llmc::fused_grid_search_unsupported(observed, args, options, importance)) {
    return "Auto refuses the fused kernel: " + *reason;
  }
  const auto [ref_min, ref_max] = llmc::grid_search_mse(
      observed, args, GridSearchOptions(options).backend(GridSearchBackend::Reference),
      importance);
  const auto [fused_min, fused_max] = llmc::fused_grid_search(observed, args, options, importance);
  const int64_t count = differing(as_floats(fused_min), ref_min.flatten()) +
                        differing(as_floats(fused_max), ref_max.flatten());
  if (count == 0) return "";
  return std::to_string(count) + " of " + std::to_string(2 * ref_min.numel()) + " bounds differ";
}

}  // namespace

TEST_CASE("fused kernels compute MX and FP8 candidate scales as calculate_qparams does") {
  std::vector<std::string> failures;
  for (const c10::ScalarType dtype : {at::kBFloat16, at::kHalf, at::kFloat}) {
    const at::Tensor amax = every_magnitude(dtype);
    const at::Tensor zeros = at::zeros_like(amax);
    const std::vector<float> amax_floats = as_floats(amax);
    const std::vector<float> zero_floats(amax_floats.size(), 0.0f);
    const std::vector<float> negated = as_floats(-amax);
    const std::vector<std::pair<std::string, QuantizationArgs>> cases = {
        {"MXFP4", mx_args(4)},
        {"MXFP8", mx_args(8)},
        {"int4 sym, fp8 scale", fp8_scaled_int4(true, 128)},
        {"int4 asym, fp8 scale", fp8_scaled_int4(false, 128)}};
    for (const auto& [name, args] : cases) {
      const KernelQParamsSpec spec = spec_for(dtype, args);
      // The range [0, amax], and [-amax, x] with x a fraction of amax (asymmetric zero points).
      const at::Tensor fraction = (amax * 0.3).to(dtype);
      const auto [ref_scale, ref_zero_point] = llmc::calculate_qparams(zeros, amax, args);
      const auto [ref_scale2, ref_zero_point2] = llmc::calculate_qparams(-amax, fraction, args);
      const auto kernel = llmc::test::kernel_candidate_qparams(spec, zero_floats, amax_floats);
      const auto kernel2 =
          llmc::test::kernel_candidate_qparams(spec, negated, as_floats(fraction));
      const std::string what = std::string(c10::toString(dtype)) + " " + name;
      const int64_t scales = differing(kernel.scale, ref_scale) + differing(kernel2.scale, ref_scale2);
      // Zero points by value: the int8 cast makes -0 a 0.
      const auto zero_points_differing = [](const std::vector<float>& kernel_zp,
                                            const at::Tensor& reference) {
        return at::tensor(kernel_zp).ne(reference.to(at::kFloat)).sum().item<int64_t>();
      };
      const int64_t zero_points = zero_points_differing(kernel.zero_point, ref_zero_point) +
                                  zero_points_differing(kernel2.zero_point, ref_zero_point2);
      if (scales + zero_points > 0) {
        failures.push_back(what + ": " + std::to_string(scales) + " scales and " +
                           std::to_string(zero_points) + " zero points of " +
                           std::to_string(2 * amax.numel()) + " differ");
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused kernels round onto the FP8 and FP4 grids as the reference does") {
  // Every fp32 pattern up to the grid's largest value whose low 10 bits are zero (all the
  // grids' rounding midpoints among them), of both signs, and its neighbours 1 and 2 ulps away
  // on either side: the kernel's magic-number rounding against the reference's FP8 cast and FP4
  // buckets, by value (the kernel's zeros are +0, which no error sees).
  for (const auto grid :
       {llmc::test::KernelFloatGrid::Fp8E4M3, llmc::test::KernelFloatGrid::Fp4E2M1}) {
    const bool fp8 = grid == llmc::test::KernelFloatGrid::Fp8E4M3;
    const float largest = fp8 ? 448.0f : 6.0f;
    uint32_t top = 0;
    std::memcpy(&top, &largest, sizeof top);
    std::vector<float> values;
    for (uint32_t bits = 0; bits <= top; bits += 1024) {
      for (const int delta : {-2, -1, 0, 1, 2}) {
        const int64_t pattern = static_cast<int64_t>(bits) + delta;
        if (pattern < 0 || pattern > top) continue;
        const auto word = static_cast<uint32_t>(pattern);
        float value = 0.0f;
        std::memcpy(&value, &word, sizeof value);
        values.push_back(value);
        values.push_back(-value);
      }
    }
    const std::vector<float> rounded = llmc::test::kernel_float_grid_round(grid, values);
    // The reference's ops: ATen's cast to float8_e4m3fn, llmc::cast_to_fp4 (compressed-tensors').
    const at::Tensor input = at::tensor(values);
    const at::Tensor expected_tensor =
        fp8 ? input.to(at::kFloat8_e4m3fn).to(at::kFloat) : llmc::cast_to_fp4(input);
    const std::vector<float> expected = as_floats(expected_tensor);
    int64_t differ = 0;
    std::string example;
    for (size_t i = 0; i < values.size(); ++i) {
      if (rounded[i] == expected[i]) continue;  // by value: +0 == -0
      if (differ++ == 0) {
        char text[128];
        std::snprintf(text, sizeof text, "%a: %a, expected %a", values[i], rounded[i],
                      expected[i]);
        example = text;
      }
    }
    INFO((fp8 ? "FP8 E4M3" : "FP4 E2M1") << ": " << values.size() << " values, " << differ
                                         << " differ, e.g. " << example);
    CHECK(differ == 0);
  }
}

TEST_CASE("fused kernels' exact MX form gives the same errors for every bf16 value and scale") {
  // quantization_error's kExactScale form (a multiply by 2^-k, no roundings to the weight
  // dtype) against its form with ATen's ops, for every MX scale 2^k and every finite bf16 value
  // (both signs), and for 2^16 random fp32 patterns with the edges: error bits equal.
  const at::Tensor bf16 = at::arange(0, 0x10000, at::kInt).to(at::kShort).view(at::kBFloat16);
  at::manual_seed(61);
  const at::Tensor fp32 = at::cat(
      {at::randint(0, 0xFF800000LL, {1 << 16}, at::kLong).to(at::kInt).view(at::kFloat),
       at::tensor({0.0f, -0.0f, std::numeric_limits<float>::denorm_min(), 0x1p-126f,
                   -0x1.fffffep-127f, std::numeric_limits<float>::max(),
                   -std::numeric_limits<float>::max()})});
  std::vector<std::string> failures;
  int64_t compared = 0;
  for (const at::Tensor& all : {bf16, fp32}) {
    const std::vector<float> values = as_floats(all.masked_select(at::isfinite(all)));
    const KernelDtype weight = kernel_dtype(all.scalar_type());
    for (const KernelDtype error : {weight, KernelDtype::Float32}) {
      for (const auto grid :
           {llmc::test::KernelFloatGrid::Fp8E4M3, llmc::test::KernelFloatGrid::Fp4E2M1}) {
        llmc::test::BitDifferences differences;
        for (int k = -127; k <= 127; ++k) {
          const auto rounded =
              llmc::test::kernel_mx_quantization_errors(weight, error, grid, false, k, values);
          const auto exact =
              llmc::test::kernel_mx_quantization_errors(weight, error, grid, true, k, values);
          differences.compare(rounded, exact, [&](size_t i) {
            char text[64];
            std::snprintf(text, sizeof text, "x = %a, k = %d", values[i], k);
            return std::string(text);
          });
          compared += static_cast<int64_t>(values.size());
        }
        if (differences.count > 0) {
          failures.push_back(std::string(c10::toString(all.scalar_type())) +
                             (error == KernelDtype::Float32 ? " (fp32 errors) " : " ") +
                             (grid == llmc::test::KernelFloatGrid::Fp8E4M3 ? "FP8" : "FP4") +
                             ": " + std::to_string(differences.count) + " differ, e.g. " +
                             differences.first);
        }
      }
    }
  }
  INFO(compared << " errors compared");
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search chooses the reference's range with MX and FP8 scales") {
  // Groups of 32 take the lanes layout, of 128 the group layout (its pow-table pipeline for
  // norm 2.4, its clamp bound for imatrix's norm 3), and a TENSOR search the single-group path.
  // Repeated candidate qparams are skipped there; 40 rows of 256 make 320 groups of 32, enough
  // for the pow-table searches' sample.
  const std::vector<std::pair<std::string, QuantizationArgs>> schemes = {
      {"MXFP4", mx_args(4)},
      {"MXFP8", mx_args(8)},
      {"int4 sym g32, fp8 scale", fp8_scaled_int4(true, 32)},
      {"int4 asym g32, fp8 scale", fp8_scaled_int4(false, 32)},
      {"int4 sym g128, fp8 scale", fp8_scaled_int4(true, 128)},
      {"int4 asym g128, fp8 scale", fp8_scaled_int4(false, 128)},
      {"int8 sym tensor, fp8 scale", QuantizationArgs()
                                         .num_bits(8)
                                         .strategy(QuantizationStrategy::Tensor)
                                         .scale_dtype(at::kFloat8_e4m3fn)
                                         .validated()}};
  struct Loop {
    std::string name;
    GridSearchOptions options;
    bool importance;
  };
  const std::vector<Loop> loops = {
      {"mse", GridSearchOptions::mse(), false},
      {"mse patience 1", GridSearchOptions::mse().patience(1), false},
      {"mse norm 2 with importance", GridSearchOptions::mse().norm(2.0), true},
      {"imatrix", GridSearchOptions::imatrix(), true},
      {"imatrix patience 0", GridSearchOptions::imatrix().patience(0), true}};
  std::vector<std::string> failures;
  int64_t compared = 0;
  uint64_t seed = 900;
  for (const c10::ScalarType dtype : {at::kBFloat16, at::kHalf, at::kFloat}) {
    for (const auto& [name, args] : schemes) {
      for (const auto& loop : loops) {
        const at::Tensor weight = edge_weight(seed % 2 == 0 ? 40 : 12, 256, dtype, seed);
        ++seed;
        const std::string result = compare(weight, args, loop.options, loop.importance);
        ++compared;
        if (!result.empty()) {
          failures.push_back(std::string(c10::toString(dtype)) + " " + name + " " + loop.name +
                             ": " + result);
        }
      }
    }
  }
  INFO(compared << " cases");
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

// Groups of 32 at the ends of the MX scale's exponent, where the lanes layout's form without
// roundings to the weight dtype (quantization_error's kExactScale) meets vanishing and
// subnormal quotients and dequantized values: maxima near bf16's largest with tiny values;
// maxima `small` (2^-109 for MXFP8, 2^-115 for MXFP4: scale 2^-117), just below it (2^-118)
// and far below (2^-127, MX's smallest), each with values at every power of two down to the
// subnormals; all-zero groups; Gaussian groups with tiny values and all of one sign.
namespace {

at::Tensor mx_exponent_edge_weight(c10::ScalarType dtype, double small, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor weight = at::randn({8, 256}, at::kDouble) * 0.05;
  // top * 2^-k for k = 1..24, signs alternating: every FP8 subnormal step, and bf16 / fp32
  // subnormal values below small maxima.
  const auto fill_steps = [](at::Tensor group, double top) {
    for (int64_t k = 1; k <= 24; ++k) group[k] = (k % 2 == 0 ? -1.0 : 1.0) * std::ldexp(top, -k);
  };
  const std::vector<double> tiny = {0x1p-30, -0x1p-40, 0x1p-126, -0x1p-126,
                                    0x1p-130, -0x1p-131, 0.0, -0.0};
  const auto fill_tiny = [&](at::Tensor group) {
    for (size_t j = 0; j < tiny.size(); ++j) group[static_cast<int64_t>(j) + 1] = tiny[j];
  };
  for (int64_t row = 0; row < 8; ++row) {
    for (int64_t g = 0; g < 8; ++g) {
      at::Tensor group = weight[row].slice(0, 32 * g, 32 * (g + 1));
      const int64_t kind = (row * 8 + g) % 4;
      if (row < 4) {
        if (kind == 0) {  // a maximum near bf16's largest, with vanishing quotients
          group.mul_(0x1p120);
          group[0] = 0x1.8p126;
          fill_tiny(group);
        } else if (kind == 1) {  // scale 2^-117
          group.copy_((at::rand({32}, at::kDouble) * 2 - 1) * small);
          group[0] = small;
          fill_steps(group, small);
        } else if (kind == 2) {
          fill_tiny(group);
        } else {  // all negative
          group.abs_().neg_();
          group[0] = -0.2;
          fill_tiny(group);
        }
      } else if (kind == 0) {  // scale 2^-118
        group.copy_((at::rand({32}, at::kDouble) * 2 - 1) * small * 0.9);
        group[0] = small * 0.95;
        fill_steps(group, small);
      } else if (kind == 1) {  // scale 2^-127
        group.copy_((at::rand({32}, at::kDouble) * 2 - 1) * 0x1p-122);
        fill_steps(group, 0x1p-121);
      } else if (kind == 3) {
        group.zero_();
      }
    }
  }
  return weight.to(dtype);
}

}  // namespace

TEST_CASE("fused grid search keeps the reference's range at the ends of the MX scale exponent") {
  struct Loop {
    std::string name;
    GridSearchOptions options;
    bool importance;
  };
  // norm 1 sums the errors themselves, so a tiny error computed differently would show.
  const std::vector<Loop> loops = {{"mse", GridSearchOptions::mse(), false},
                                   {"mse norm 1", GridSearchOptions::mse().norm(1.0), false},
                                   {"imatrix", GridSearchOptions::imatrix(), true}};
  std::vector<std::string> failures;
  uint64_t seed = 980;
  for (const c10::ScalarType dtype : {at::kBFloat16, at::kFloat}) {
    for (const int64_t bits : {4, 8}) {
      const double small = bits == 4 ? 0x1p-115 : 0x1p-109;
      for (const auto& loop : loops) {
        const at::Tensor weight = mx_exponent_edge_weight(dtype, small, seed++);
        const std::string result = compare(weight, mx_args(bits), loop.options, loop.importance);
        if (!result.empty()) {
          failures.push_back(std::string(c10::toString(dtype)) + " MXFP" + std::to_string(bits) +
                             " " + loop.name + ": " + result);
        }
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search raises the reference's error for a scale of inf") {
  // An MX range from 1.75 * 2^127 (bf16, fp32) or 1.75 * 2^15 (fp16) rounds to a power of two
  // of inf, and an asymmetric range wider than the dtype's largest value has max - min = inf:
  // the reference's fake_quantize then refuses the scale, and the fused search must give the
  // same error, not ranges from a NaN error. Just below those bounds both search normally.
  std::vector<std::string> failures;
  const auto message_of = [](const auto& search) -> std::string {
    try {
      search();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "(no error)";
  };
  for (const c10::ScalarType dtype : {at::kBFloat16, at::kHalf, at::kFloat}) {
    const double huge = dtype == at::kHalf ? 60000.0 : 3.2e38;
    const double large = dtype == at::kHalf ? 50000.0 : 2.9e38;
    at::manual_seed(950);
    const at::Tensor base = at::randn({12, 256}) * 0.05;
    at::Tensor overflowing = base.clone();
    overflowing[3].slice(0, 0, 256, 32).fill_(huge);  // MX: the power of two is inf
    overflowing[4].slice(0, 1, 256, 32).fill_(huge);  // asymmetric: max - min is inf
    overflowing[4].slice(0, 2, 256, 32).fill_(-huge);
    overflowing = overflowing.to(dtype);
    at::Tensor finite = base.clone();
    finite[3].slice(0, 0, 256, 32).fill_(large);  // (max - min is near the largest value)
    finite = finite.to(dtype);
    const std::vector<std::pair<std::string, QuantizationArgs>> schemes = {
        {"MXFP4", mx_args(4)},
        {"MXFP8", mx_args(8)},
        {"int4 asym g32", QuantizationArgs().num_bits(4).symmetric(false).group_size(32).validated()},
        {"int4 asym g128",
         QuantizationArgs().num_bits(4).symmetric(false).group_size(128).validated()},
        {"int8 asym tensor", QuantizationArgs()
                                 .num_bits(8)
                                 .symmetric(false)
                                 .strategy(QuantizationStrategy::Tensor)
                                 .validated()}};
    for (const auto& [name, args] : schemes) {
      for (const bool imatrix : {false, true}) {
        const auto options = imatrix ? GridSearchOptions::imatrix() : GridSearchOptions::mse();
        const std::string what = std::string(c10::toString(dtype)) + " " + name +
                                 (imatrix ? " imatrix: " : " mse: ");
        const at::Tensor observed = llmc::flatten_for_calibration(overflowing, "weight", args);
        std::optional<at::Tensor> importance;
        if (imatrix) importance = at::ones_like(observed, at::kFloat);
        const std::string reference = message_of([&] {
          llmc::grid_search_mse(observed, args,
                                GridSearchOptions(options).backend(GridSearchBackend::Reference),
                                importance);
        });
        const std::string fused =
            message_of([&] { llmc::fused_grid_search(observed, args, options, importance); });
        if (reference.find("not finite") == std::string::npos || fused != reference) {
          failures.push_back(what + "reference: " + reference + "; fused: " + fused);
        }
        const std::string result = compare(finite, args, options, imatrix);
        if (!result.empty()) failures.push_back(what + "below the bound: " + result);
      }
    }
  }
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused grid search keeps other scale dtypes on the reference") {
  const auto options = GridSearchOptions::mse();
  const at::Tensor weight = at::randn({1, 4, 128});
  const auto fp16_scale =
      QuantizationArgs().num_bits(4).group_size(128).scale_dtype(at::kHalf).validated();
  const auto reason = llmc::fused_grid_search_unsupported(weight, fp16_scale, options, std::nullopt);
  REQUIRE(reason.has_value());
  CHECK_THAT(*reason, Catch::Contains("scale_dtype"));
  CHECK_THROWS_AS(llmc::fused_grid_search(weight, fp16_scale, options), llmc::Error);
  // Auto answers through the reference.
  CHECK(llmc::grid_search_mse(weight, fp16_scale, options).first.sizes() ==
        at::IntArrayRef({4}));
}
