// Built with -mavx2 -mf16c -ffp-contract=off (tests/CMakeLists.txt), like the AVX2 kernel.
#include "support/candidate_qparams.hpp"

#include "kernels/grid_search_cpu_avx2.hpp"
#include "kernels/grid_search_cpu_group.hpp"

namespace llmc::test {
namespace {

using kernels::Avx2;
using kernels::ValueType;

template <ValueType V>
void qparams_of(const kernels::QuantSpec& quant, const std::vector<float>& min,
                const std::vector<float>& max, KernelQParams& out) {
  constexpr int64_t kWidth = Avx2::kWidth;
  for (size_t i = 0; i < min.size(); i += kWidth) {
    float lane_min[kWidth] = {};
    float lane_max[kWidth] = {};
    for (int64_t l = 0; l < kWidth && i + l < min.size(); ++l) {
      lane_min[l] = min[i + l];
      lane_max[l] = max[i + l];
    }
    Avx2::Vec scale;
    Avx2::Vec zero_point;
    kernels::lanes_qparams<Avx2, V>(Avx2::load(lane_min), Avx2::load(lane_max), quant, scale,
                                    zero_point);
    float lane_scale[kWidth];
    float lane_zero_point[kWidth];
    Avx2::store(lane_scale, scale);
    Avx2::store(lane_zero_point, zero_point);
    for (int64_t l = 0; l < kWidth && i + l < min.size(); ++l) {
      out.scale[i + l] = lane_scale[l];
      out.zero_point[i + l] = lane_zero_point[l];
    }
  }
}

}  // namespace

KernelQParams kernel_candidate_qparams(const KernelQParamsSpec& spec,
                                       const std::vector<float>& min,
                                       const std::vector<float>& max) {
  kernels::QuantSpec quant;
  quant.symmetric = spec.symmetric;
  quant.q_min = spec.q_min;
  quant.q_max = spec.q_max;
  quant.half_range = spec.half_range;
  quant.range = spec.range;
  quant.scale_eps = spec.scale_eps;
  quant.scale_format = spec.scale_format == KernelScaleFormat::Mx ? kernels::ScaleFormat::Mx
                       : spec.scale_format == KernelScaleFormat::Fp8E4M3
                           ? kernels::ScaleFormat::Fp8E4M3
                           : kernels::ScaleFormat::Plain;
  quant.mx_exponent_offset = spec.mx_exponent_offset;
  KernelQParams out{std::vector<float>(min.size()), std::vector<float>(min.size())};
  switch (spec.dtype) {
    case KernelDtype::Float32: qparams_of<ValueType::Float32>(quant, min, max, out); break;
    case KernelDtype::Float16: qparams_of<ValueType::Float16>(quant, min, max, out); break;
    case KernelDtype::BFloat16: qparams_of<ValueType::BFloat16>(quant, min, max, out); break;
  }
  return out;
}

}  // namespace llmc::test
