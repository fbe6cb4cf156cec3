// pack_to_int32 / unpack_from_int32 of compressed-tensors' compressors/pack_quantized/helpers.py:
// 32 values of b bits fill exactly b int32 words; value k of a row starts at bit k*b of the
// row's little-endian bitstream (LC §8.4).
#include <llmc/quant/packing.hpp>

#include <llmc/error.hpp>

#include <c10/util/Exception.h>

#include <string>

namespace llmc {
namespace {

constexpr int64_t kWordBits = 32;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void check_bits_and_dim(const char* caller, int64_t num_bits, int64_t packed_dim) {
  if (num_bits < 1 || num_bits > 8) {
    throw Error(std::string(caller) + ": num_bits " + std::to_string(num_bits) +
                " out of range (allowed: 1..8)");
  }
  if (packed_dim != 0 && packed_dim != 1) {
    throw Error(std::string(caller) + ": packed_dim " + std::to_string(packed_dim) +
                " not supported (allowed: 0, 1)");
  }
}

void check_value_range(const at::Tensor& values, int64_t num_bits) {
  if (values.numel() == 0) return;
  const int64_t low = -(int64_t{1} << (num_bits - 1)), high = (int64_t{1} << (num_bits - 1)) - 1;
  const auto [min, max] = at::aminmax(values);
  const int64_t found_min = min.item<int64_t>(), found_max = max.item<int64_t>();
  if (found_min < low || found_max > high) {
    throw Error("pack_to_int32: values span [" + std::to_string(found_min) + ", " +
                std::to_string(found_max) + "] but num_bits " + std::to_string(num_bits) +
                " holds [" + std::to_string(low) + ", " + std::to_string(high) +
                "] (were they quantized with a different num_bits?)");
  }
}

// Start bit of each of the 32 values of a word group: word index and offset inside it.
struct BitLayout {
  at::Tensor word_idx;    // int64 (32,)
  at::Tensor bit_offset;  // int32 (32,)
};

BitLayout bit_layout(int64_t num_bits, at::Device device) {
  const at::Tensor bit_starts =
      at::arange(kWordBits, at::TensorOptions().dtype(at::kInt).device(device)) * num_bits;
  return {at::floor_divide(bit_starts, kWordBits).to(at::kLong), bit_starts.remainder(kWordBits)};
}

at::Tensor pack_2d(const at::Tensor& values, int64_t num_bits, int64_t packed_dim) {
  at::Tensor value = values.to(at::kInt) + (int64_t{1} << (num_bits - 1));
  if (packed_dim == 0) value = value.transpose(0, 1);
  const int64_t rows = value.size(0), cols = value.size(1);
  const int64_t packed_cols = ceil_div(cols * num_bits, kWordBits);
  const int64_t groups = ceil_div(cols, kWordBits);
  if (groups * kWordBits > cols) value = at::constant_pad_nd(value, {0, groups * kWordBits - cols});

  const at::Tensor value_g = value.reshape({rows * groups, kWordBits});
  at::Tensor output_g = at::zeros({rows * groups, num_bits}, value_g.options());
  const BitLayout layout = bit_layout(num_bits, value.device());
  // Fields are disjoint, so the int32 sums are ORs; the high part of a value that straddles a
  // word boundary is added to the next word.
  output_g.scatter_add_(1, layout.word_idx.unsqueeze(0).expand({rows * groups, -1}),
                        at::__lshift__(value_g, layout.bit_offset.unsqueeze(0)));
  const at::Tensor overflow = layout.bit_offset + (num_bits - kWordBits);
  const at::Tensor straddles = overflow > 0;
  if (straddles.any().item<bool>()) {
    const at::Tensor high_parts = at::__rshift__(
        value_g.index({at::indexing::Slice(), straddles}),
        (num_bits - overflow.index({straddles})).unsqueeze(0));
    output_g.scatter_add_(
        1, (layout.word_idx.index({straddles}) + 1).unsqueeze(0).expand({rows * groups, -1}),
        high_parts);
  }
  at::Tensor output = output_g.view({rows, groups * num_bits}).slice(1, 0, packed_cols);
  if (packed_dim == 0) output = output.transpose(0, 1);
  // Fresh row-major strides: contiguous() keeps odd strides on size-1 dims, which breaks
  // byte views of a (words, 1) channel zero point later.
  return output.clone(at::MemoryFormat::Contiguous);
}

at::Tensor unpack_2d(const at::Tensor& packed, int64_t num_bits, int64_t cols,
                     int64_t packed_dim) {
  at::Tensor value = packed_dim == 0 ? packed.transpose(0, 1) : packed;
  const int64_t rows = value.size(0);
  int64_t words = value.size(1);
  if (words % num_bits != 0) {
    value = at::constant_pad_nd(value, {0, num_bits - words % num_bits});
    words = value.size(1);
  }
  const int64_t groups = words / num_bits;
  const at::Tensor value_g = value.reshape({rows * groups, num_bits});
  const BitLayout layout = bit_layout(num_bits, value.device());
  const at::Tensor low_bits = at::clamp_max(kWordBits - layout.bit_offset, num_bits);
  const auto low_mask = (at::__lshift__(at::ones_like(low_bits), low_bits) - 1).unsqueeze(0);
  at::Tensor output_g = at::__rshift__(value_g.index_select(1, layout.word_idx),
                                       layout.bit_offset.unsqueeze(0))
                            .bitwise_and_(low_mask);
  const at::Tensor straddles = low_bits < num_bits;
  const at::Tensor straddle_low = low_bits.index({straddles});
  const at::Tensor high_mask =
      at::__lshift__(at::ones_like(straddle_low), num_bits - straddle_low) - 1;
  const at::Tensor high_parts = at::__lshift__(
      value_g.index_select(1, layout.word_idx.index({straddles}) + 1)
          .bitwise_and(high_mask.unsqueeze(0)),
      straddle_low.unsqueeze(0));
  const auto straddle_cols = at::indexing::TensorIndex(straddles);
  output_g.index_put_({at::indexing::Slice(), straddle_cols},
                      output_g.index({at::indexing::Slice(), straddle_cols}).bitwise_or(high_parts));

  at::Tensor output = output_g.view({rows, groups * kWordBits}).slice(1, 0, cols);
  if (packed_dim == 0) output = output.transpose(0, 1);
  return (output - (int64_t{1} << (num_bits - 1))).to(at::kChar);
}

}  // namespace

at::Tensor pack_to_int32(const at::Tensor& values, int64_t num_bits, int64_t packed_dim) {
  check_bits_and_dim("pack_to_int32", num_bits, packed_dim);
  if (values.scalar_type() != at::kChar) {
    throw Error(std::string("pack_to_int32: values must be int8 (quantize with dtype int8 "
                            "first), got ") + c10::toString(values.scalar_type()));
  }
  if (values.dim() < 2) {
    throw Error("pack_to_int32: values must be 2-D or 3-D, got shape " + c10::str(values.sizes()));
  }
  check_value_range(values, num_bits);
  if (values.dim() == 2) return pack_2d(values, num_bits, packed_dim);
  std::vector<at::Tensor> slices;
  slices.reserve(values.size(0));
  for (int64_t i = 0; i < values.size(0); ++i) {
    slices.push_back(pack_to_int32(values[i], num_bits, packed_dim));
  }
  return at::stack(slices);
}

at::Tensor unpack_from_int32(const at::Tensor& packed, int64_t num_bits,
                             at::IntArrayRef original_shape, int64_t packed_dim) {
  check_bits_and_dim("unpack_from_int32", num_bits, packed_dim);
  if (packed.scalar_type() != at::kInt) {
    throw Error(std::string("unpack_from_int32: packed must be int32, got ") +
                c10::toString(packed.scalar_type()));
  }
  if (packed.dim() < 2 || static_cast<size_t>(packed.dim()) != original_shape.size()) {
    throw Error("unpack_from_int32: packed shape " + c10::str(packed.sizes()) +
                " does not match original shape " + c10::str(original_shape));
  }
  if (packed.dim() > 2) {
    std::vector<at::Tensor> slices;
    slices.reserve(packed.size(0));
    for (int64_t i = 0; i < packed.size(0); ++i) {
      slices.push_back(unpack_from_int32(packed[i], num_bits, original_shape.slice(1), packed_dim));
    }
    return at::stack(slices);
  }
  const int64_t other_dim = 1 - packed_dim;
  const int64_t length = original_shape[packed_dim];
  if (packed.size(other_dim) != original_shape[other_dim] ||
      packed.size(packed_dim) != ceil_div(length * num_bits, kWordBits)) {
    throw Error("unpack_from_int32: packed shape " + c10::str(packed.sizes()) +
                " does not hold original shape " + c10::str(original_shape) + " at " +
                std::to_string(num_bits) + " bits along dim " + std::to_string(packed_dim));
  }
  return unpack_2d(packed, num_bits, length, packed_dim);
}

}  // namespace llmc
