// Bit packing of the compressed-tensors checkpoint formats (LC reference §8.4), bit for bit as
// CT's compressors (pack_quantized/helpers.py, nvfp4/helpers.py, mx_utils.py):
// pack-quantized int32 words (LSB-first, values may straddle words), packed asymmetric zero
// points along dim 0, nvfp4 nibbles (low nibble = even column) and MX E8M0 scale bytes.
//
//   at::Tensor packed = llmc::pack_to_int32(llmc::quantize(w, s, zp, args, at::kChar), 4);
#pragma once

#include <ATen/ATen.h>

namespace llmc {

// Signed int8 values in the num_bits range [-2^(b-1), 2^(b-1)-1] → int32, adding the offset
// 2^(b-1) first: (rows, ceil(cols*b/32)) for packed_dim 1 (weights), (ceil(rows*b/32), cols) for
// packed_dim 0 (zero points). 3-D inputs are packed per 2-D slice along dim 0. Throws
// llmc::Error for non-int8 input, num_bits outside 1..8, packed_dim not 0/1, or values outside
// the num_bits range (upstream would silently spill them into neighbouring fields).
at::Tensor pack_to_int32(const at::Tensor& values, int64_t num_bits, int64_t packed_dim = 1);
// Inverse: returns signed int8 values of `original_shape`; throws when the packed tensor's
// shape does not match original_shape and num_bits.
at::Tensor unpack_from_int32(const at::Tensor& packed, int64_t num_bits,
                             at::IntArrayRef original_shape, int64_t packed_dim = 1);

// 2-D FP4 values (already on the E2M1 grid, any float dtype) → uint8 (rows, cols/2): code
// sign<<3 | index of {0,.5,1,1.5,2,3,4,6}; the sign bit of -0 is kept. Odd widths throw.
at::Tensor pack_fp4_to_uint8(const at::Tensor& values);
// uint8 (rows, cols/2) → E2M1 values in `dtype`, shape (rows, cols).
at::Tensor unpack_fp4_from_uint8(const at::Tensor& packed, int64_t rows, int64_t cols,
                                 c10::ScalarType dtype);

// MX checkpoint scales: float power-of-two scale → 127 + floor(log2(scale)) in `scale_dtype`
// (uint8), and back to 2^(e - 127) in bfloat16 (CT's compress/decompress_mx_scale).
at::Tensor compress_mx_scale(const at::Tensor& scale, c10::ScalarType scale_dtype = at::kByte);
at::Tensor decompress_mx_scale(const at::Tensor& e8m0);

}  // namespace llmc
