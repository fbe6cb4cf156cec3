// Bit packing of the compressed-tensors checkpoint formats (LC reference §8.4):
// pack-quantized int32 words (LSB-first, values may straddle words), packed asymmetric zero
// points along dim 0, and nvfp4 nibbles (low nibble = even column).
#pragma once

#include <ATen/ATen.h>

namespace llmc {

// Signed int values (int8 tensor, range of num_bits) → int32 (rows, ceil(cols*b/32)), adding the
// offset 2^(b-1) first. 3-D inputs are packed per 2-D slice. `packed_dim` 1 packs along columns
// (weights), 0 along rows (zero points).
at::Tensor pack_to_int32(const at::Tensor& values, int64_t num_bits, int64_t packed_dim = 1);
// Inverse: returns signed int8 values of `original_shape`.
at::Tensor unpack_from_int32(const at::Tensor& packed, int64_t num_bits,
                             at::IntArrayRef original_shape, int64_t packed_dim = 1);

// FP4 values (floats already on the E2M1 grid) → uint8 (rows, cols/2). Odd column counts throw.
at::Tensor pack_fp4_to_uint8(const at::Tensor& values);
// uint8 (rows, cols/2) → E2M1 values in `dtype`, shape (rows, cols).
at::Tensor unpack_fp4_from_uint8(const at::Tensor& packed, int64_t rows, int64_t cols,
                                 c10::ScalarType dtype);

}  // namespace llmc
