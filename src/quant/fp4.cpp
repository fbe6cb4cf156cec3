#include <llmc/quant/fp4.hpp>

#include <llmc/error.hpp>

#include <cstdint>
#include <string>

namespace llmc {

at::Tensor cast_to_fp4(const at::Tensor& x) {
  // CT registers a Triton kernel for CUDA but dispatches to this torch fallback on the
  // reference path; the bucket order and the inclusive/exclusive bounds encode its ties.
  const at::Tensor sign = at::sign(x);
  at::Tensor magnitude = at::abs(x);
  magnitude.masked_fill_(magnitude.ge(0.0).logical_and_(magnitude.le(0.25)), 0.0);
  magnitude.masked_fill_(magnitude.gt(0.25).logical_and_(magnitude.lt(0.75)), 0.5);
  magnitude.masked_fill_(magnitude.ge(0.75).logical_and_(magnitude.le(1.25)), 1.0);
  magnitude.masked_fill_(magnitude.gt(1.25).logical_and_(magnitude.lt(1.75)), 1.5);
  magnitude.masked_fill_(magnitude.ge(1.75).logical_and_(magnitude.le(2.5)), 2.0);
  magnitude.masked_fill_(magnitude.gt(2.5).logical_and_(magnitude.lt(3.5)), 3.0);
  magnitude.masked_fill_(magnitude.ge(3.5).logical_and_(magnitude.le(5.0)), 4.0);
  magnitude.masked_fill_(magnitude.gt(5.0), 6.0);
  return magnitude * sign;
}

namespace {

struct FloatLayout {
  c10::ScalarType bits_dtype;  // same-width integer used to manipulate the bit pattern
  int64_t mantissa;
  int64_t exponent;
};

FloatLayout float_layout(c10::ScalarType dtype) {
  switch (dtype) {
    case at::kBFloat16: return {at::kShort, 7, 8};
    case at::kHalf: return {at::kShort, 10, 5};
    case at::kFloat: return {at::kInt, 23, 8};
    case at::kDouble: return {at::kLong, 52, 11};
    default:
      throw Error(std::string("round_to_power_2: unsupported dtype ") + c10::toString(dtype) +
                  " (allowed: bfloat16, float16, float32, float64)");
  }
}

constexpr int64_t kFp4MantissaBits = 1;

}  // namespace

at::Tensor round_to_power_2(const at::Tensor& x) {
  const FloatLayout layout = float_layout(x.scalar_type());
  // Adding half of the FP4 mantissa step before masking rounds the mantissa the way CT does;
  // 16-bit patterns are widened to int32 so the carry into the exponent is not lost.
  const c10::ScalarType work_dtype = layout.bits_dtype == at::kLong ? at::kLong : at::kInt;
  at::Tensor bits = x.view(layout.bits_dtype).to(work_dtype);
  if (layout.bits_dtype == at::kShort) bits = bits.bitwise_and(0xFFFF);
  const int64_t to_add = int64_t{1} << (layout.mantissa - kFp4MantissaBits - 1);
  const uint64_t sign_exponent_mask = ((uint64_t{1} << (layout.exponent + 1)) - 1)
                                      << layout.mantissa;
  at::Tensor rounded;
  if (work_dtype == at::kInt) {
    rounded = (bits + to_add).bitwise_and(static_cast<int32_t>(sign_exponent_mask));
  } else {
    rounded = (bits + to_add).bitwise_and(static_cast<int64_t>(sign_exponent_mask));
  }
  return rounded.to(layout.bits_dtype).view(x.scalar_type());
}

at::Tensor generate_mx_scales(const at::Tensor& amax, int64_t num_bits) {
  int64_t offset = 0;  // floor(log2(max of the element type))
  if (num_bits == 4) {
    offset = 2;
  } else if (num_bits == 8) {
    offset = 8;
  } else {
    throw Error("generate_mx_scales: num_bits " + std::to_string(num_bits) +
                " not supported (allowed: 4, 8)");
  }
  return at::floor(at::log2(round_to_power_2(amax))).add(127).sub(offset);
}

at::Tensor mx_exponents_to_scales(const at::Tensor& e8m0, c10::ScalarType dtype) {
  const at::Tensor exponent = e8m0.to(at::kInt).sub(127);
  return at::pow(2.0, exponent.to(at::kFloat)).to(dtype);
}

}  // namespace llmc
