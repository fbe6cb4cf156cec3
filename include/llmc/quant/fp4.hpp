// FP4 (E2M1) rounding and MX (E8M0) exponent scales, as compressed-tensors' fp4_utils.py and
// mxfp_utils.py (LC reference §6.4, §6.5).
//
//   at::Tensor q = llmc::cast_to_fp4(x / scale);  // values on {0, ±.5, ±1, ±1.5, ±2, ±3, ±4, ±6}
#pragma once

#include <ATen/ATen.h>

namespace llmc {

// Rounds to the nearest E2M1 value {0, .5, 1, 1.5, 2, 3, 4, 6} with ties to the even mantissa
// (0.25→0, 0.75→1, 1.25→1, 1.75→2, 2.5→2, 3.5→4, 5→4), magnitudes above 5 → 6; the sign is
// re-applied with torch.sign, so -0 becomes +0 and small negatives become -0 (upstream's torch
// fallback, the path CT runs). Same dtype and shape as the input.
at::Tensor cast_to_fp4(const at::Tensor& x);

// Rounds each value down to a power of two by adding half a FP4 mantissa step to the bit pattern
// and masking off the mantissa (CT's round_to_power_2). bf16, fp16, fp32 and fp64 only.
at::Tensor round_to_power_2(const at::Tensor& x);

// MX scale exponent 127 + floor(log2(round_to_power_2(amax))) - offset, offset 2 for FP4 and
// 8 for FP8 (floor(log2(type max))); in amax's dtype, not yet rounded to uint8.
at::Tensor generate_mx_scales(const at::Tensor& amax, int64_t num_bits);

// 2^(e8m0 - 127) computed in fp32 and cast to `dtype` (CT's maybe_convert_from_mx_exp).
at::Tensor mx_exponents_to_scales(const at::Tensor& e8m0, c10::ScalarType dtype);

}  // namespace llmc
