// The CPU kernels' qparams of candidate ranges (lanes_qparams in
// src/kernels/grid_search_cpu_group.hpp), exposed to the tests. Implemented in
// candidate_qparams_avx2.cpp, built with -mavx2 like the AVX2 kernel (no ATen or Catch2 header
// there), so the spec is plain data rather than QuantizationArgs.
#pragma once

#include <cstdint>
#include <vector>

namespace llmc::test {

enum class KernelDtype { Float32, Float16, BFloat16 };
enum class KernelScaleFormat { Plain, Fp8E4M3, Mx };

// What the dispatcher's QuantSpec holds for the qparams (kernels::QuantSpec).
struct KernelQParamsSpec {
  KernelDtype dtype = KernelDtype::BFloat16;
  bool symmetric = true;
  float q_min = -8.0f;
  float q_max = 7.0f;
  float half_range = 7.5f;
  float range = 15.0f;
  float scale_eps = 0.0f;
  KernelScaleFormat scale_format = KernelScaleFormat::Plain;
  int32_t mx_exponent_offset = 0;
};

struct KernelQParams {
  std::vector<float> scale;
  std::vector<float> zero_point;
};

// lanes_qparams<Avx2, dtype> of each (min[i], max[i]): values of spec.dtype held as floats.
KernelQParams kernel_candidate_qparams(const KernelQParamsSpec& spec,
                                       const std::vector<float>& min,
                                       const std::vector<float>& max);

}  // namespace llmc::test
