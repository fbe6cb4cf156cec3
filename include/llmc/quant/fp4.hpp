// FP4 (E2M1) rounding and MX (E8M0) exponent scales (LC reference §6.4, §6.5).
#pragma once

#include <ATen/ATen.h>

namespace llmc {

// Rounds to the nearest E2M1 value {0, .5, 1, 1.5, 2, 3, 4, 6} with ties to even mantissa,
// sign kept; same dtype as the input.
at::Tensor cast_to_fp4(const at::Tensor& x);

// MX scale exponent: round to a power of two and take 127 + floor(log2) - offset (2 for FP4,
// 8 for FP8), as compressed-tensors' mxfp_utils.
at::Tensor generate_mx_scales(const at::Tensor& amax, int64_t num_bits);
// 2^(e8m0 - 127) in `dtype`.
at::Tensor mx_exponents_to_scales(const at::Tensor& e8m0, c10::ScalarType dtype);

}  // namespace llmc
