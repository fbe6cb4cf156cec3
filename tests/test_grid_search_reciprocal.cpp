// The CPU kernels' reciprocal form of x / scale for bf16 weights on the int grids
// (has_reciprocal_form in src/kernels/grid_search_cpu_group.hpp): a multiply by 1 / scale and a
// rounding to bf16 without the tie case, in place of ATen's division and round-to-nearest-even.
// It must give the division's errors bit for bit, for every value and every scale it is used for.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/mismatches.hpp"
#include "support/quantization_errors.hpp"

using llmc::test::KernelDtype;
using llmc::test::KernelIntGrid;

namespace {

// Every finite bf16 value (both signs, zeros and subnormals included), as floats.
std::vector<float> every_finite_bf16() {
  std::vector<float> values;
  for (uint32_t pattern = 0; pattern < 0x10000; ++pattern) {
    const uint32_t bits = pattern << 16;
    float value;
    std::memcpy(&value, &bits, sizeof value);
    if (std::isfinite(value)) values.push_back(value);
  }
  return values;
}

// bf16 scales: every significand at the smallest normal exponent and around the weights' usual
// scales, a few significands at exponents from there to the largest reciprocal_applies accepts,
// and that largest, 2^125.
std::vector<float> bf16_scales() {
  std::vector<float> scales;
  for (const int exponent : {-126, -7, 0}) {
    for (int mantissa = 0; mantissa < 128; ++mantissa) {
      scales.push_back(std::ldexp(1.0f + static_cast<float>(mantissa) / 128.0f, exponent));
    }
  }
  for (const int exponent : {-125, -120, -60, -20, -10, -4, -1, 3, 10, 60, 124}) {
    for (const int mantissa : {0, 1, 37, 64, 85, 127}) {
      scales.push_back(std::ldexp(1.0f + static_cast<float>(mantissa) / 128.0f, exponent));
    }
  }
  scales.push_back(0x1p125f);
  return scales;
}

struct IntCase {
  KernelIntGrid grid;
  bool symmetric;
  float zero_point;
  KernelDtype error;
  const char* name;
};

}  // namespace

TEST_CASE("fused kernels' reciprocal form gives the division's errors for every bf16 value") {
  const std::vector<float> values = every_finite_bf16();
  const std::vector<float> scales = bf16_scales();
  // int4 through the level table and int8 through the ops, symmetric and asymmetric with zero
  // points at both ends and inside the grid, bf16 errors (mse) and fp32 errors (imatrix).
  const IntCase cases[] = {
      {KernelIntGrid::Int4Levels, true, 0.0f, KernelDtype::BFloat16, "int4 symmetric"},
      {KernelIntGrid::Int4Levels, false, -8.0f, KernelDtype::BFloat16, "int4 zero point -8"},
      {KernelIntGrid::Int4Levels, false, -1.0f, KernelDtype::Float32, "int4 zero point -1"},
      {KernelIntGrid::Int4Levels, false, 0.0f, KernelDtype::BFloat16, "int4 zero point 0"},
      {KernelIntGrid::Int4Levels, false, 7.0f, KernelDtype::BFloat16, "int4 zero point 7"},
      {KernelIntGrid::Int8, true, 0.0f, KernelDtype::Float32, "int8 symmetric"},
      {KernelIntGrid::Int8, false, -128.0f, KernelDtype::BFloat16, "int8 zero point -128"},
      {KernelIntGrid::Int8, false, 5.0f, KernelDtype::Float32, "int8 zero point 5"},
  };
  int64_t compared = 0;
  std::vector<std::string> failures;
  for (const IntCase& c : cases) {
    llmc::test::BitDifferences differences;
    for (const float scale : scales) {
      const auto division = llmc::test::kernel_int_quantization_errors(
          c.error, c.grid, c.symmetric, false, scale, c.zero_point, values);
      const auto reciprocal = llmc::test::kernel_int_quantization_errors(
          c.error, c.grid, c.symmetric, true, scale, c.zero_point, values);
      differences.compare(division, reciprocal, [&](size_t i) {
        char text[64];
        std::snprintf(text, sizeof text, "x = %a, scale = %a", values[i], scale);
        return std::string(text);
      });
      compared += static_cast<int64_t>(values.size());
    }
    if (differences.count > 0) {
      failures.push_back(std::string(c.name) + ": " + std::to_string(differences.count) +
                         " differ, e.g. " + differences.first);
    }
  }
  INFO(compared << " errors compared over " << scales.size() << " scales");
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
}

TEST_CASE("fused kernels keep the division for scales the reciprocal form does not cover") {
  // A subnormal scale (its reciprocal overflows), one above 2^125 (its reciprocal is subnormal)
  // and one that is not a bf16 value: the kernel's candidates leave the flag unset there.
  const std::vector<float> values = {1.0f, -0.5f, 3.0e-39f};
  for (const float scale : {0x1p-127f, 0x1.8p125f, 1.0f + 0x1p-20f}) {
    INFO("scale " << scale);
    CHECK_THROWS_AS(llmc::test::kernel_int_quantization_errors(
                        KernelDtype::BFloat16, KernelIntGrid::Int4Levels, true, true, scale, 0.0f,
                        values),
                    std::invalid_argument);
    CHECK_NOTHROW(llmc::test::kernel_int_quantization_errors(
        KernelDtype::BFloat16, KernelIntGrid::Int4Levels, true, false, scale, 0.0f, values));
  }
}
