// nvfp4 nibble packing (compressors/nvfp4/helpers.py, CPU path) and MX E8M0 scale bytes
// (compressors/mx_utils.py); LC §8.4.
#include <llmc/quant/packing.hpp>

#include <llmc/error.hpp>

#include <string>

namespace llmc {

at::Tensor pack_fp4_to_uint8(const at::Tensor& values) {
  if (values.dim() != 2) {
    throw Error("pack_fp4_to_uint8: values must be 2-D, got shape " + c10::str(values.sizes()));
  }
  const int64_t rows = values.size(0), cols = values.size(1);
  if (cols % 2 != 0) {
    throw Error("pack_fp4_to_uint8: columns " + std::to_string(cols) +
                " is odd (nvfp4 packs two values per byte, columns must be even)");
  }
  // signbit keeps the sign of -0; magnitudes are matched as twice their value in int8.
  const at::Tensor sign = at::signbit(values).to(at::kByte);
  const at::Tensor doubled = (values * 2).to(at::kChar).abs_();
  at::Tensor codes = at::zeros_like(doubled, at::kByte);
  const int64_t doubled_grid[] = {1, 2, 3, 4, 6, 8};
  for (int64_t index = 0; index < 6; ++index) {
    codes.masked_fill_(doubled == doubled_grid[index], index + 1);
  }
  codes.masked_fill_(doubled >= 12, 7);
  codes = codes.bitwise_or(at::__lshift__(sign, 3)).reshape({-1, 2});
  const at::Tensor packed =
      codes.select(1, 0).bitwise_or(at::__lshift__(codes.select(1, 1), 4));
  return packed.reshape({rows, cols / 2});
}

at::Tensor unpack_fp4_from_uint8(const at::Tensor& packed, int64_t rows, int64_t cols,
                                 c10::ScalarType dtype) {
  if (packed.scalar_type() != at::kByte) {
    throw Error(std::string("unpack_fp4_from_uint8: packed must be uint8, got ") +
                c10::toString(packed.scalar_type()));
  }
  if (cols % 2 != 0 || packed.numel() * 2 != rows * cols) {
    throw Error("unpack_fp4_from_uint8: packed shape " + c10::str(packed.sizes()) +
                " does not hold (" + std::to_string(rows) + ", " + std::to_string(cols) +
                ") FP4 values");
  }
  const at::Tensor flat = packed.flatten();
  const at::Tensor high = at::__rshift__(flat.bitwise_and(0xF0), 4);
  const at::Tensor low = flat.bitwise_and(0x0F);
  const at::Tensor codes = at::stack({low, high}, 1).flatten();
  const at::Tensor negative = codes.bitwise_and(0x08).to(at::kBool);
  const at::Tensor magnitude_index = codes.bitwise_and(0x07).to(at::kLong);
  const auto fp32 = at::TensorOptions().dtype(at::kFloat).device(packed.device());
  const at::Tensor e2m1 =
      at::tensor({0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f}, fp32);
  // Multiplying by -1.0 (not negating the index) is what gives code 8 the value -0.
  const at::Tensor sign =
      at::where(negative, at::scalar_tensor(-1.0, fp32), at::scalar_tensor(1.0, fp32));
  return (e2m1.index({magnitude_index}) * sign).reshape({rows, cols}).to(dtype);
}

at::Tensor compress_mx_scale(const at::Tensor& scale, c10::ScalarType scale_dtype) {
  return at::floor(at::log2(scale)).to(at::kInt).add(127).to(scale_dtype);
}

at::Tensor decompress_mx_scale(const at::Tensor& e8m0) {
  return at::pow(2.0, e8m0.to(at::kInt).sub(127).to(at::kBFloat16));
}

}  // namespace llmc
