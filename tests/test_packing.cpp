// Checkpoint packing against compressed-tensors' compressors (oracle tests/oracle/packing.py)
// and the properties of CT test_pack_quant / test_fp4_quant.
#include <llmc/error.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/packing.hpp>

#include <cmath>

#include "support/oracle.hpp"
#include "support/quant_case.hpp"

// ATen's c10/util/Logging.h defines a glog-style CHECK (fatal abort); Catch's must win.
#undef CHECK
#include "support/catch.hpp"

using llmc::QuantizationArgs;
using llmc::test::args_of;
using llmc::test::is_kind;
using llmc::test::optional_tensor;
using llmc::QuantizationStrategy;

namespace {

// What CT's pack-quantized compressor writes: weight_packed and, for asymmetric group/channel,
// the zero points packed along dim 0.
void check_pack_quantized(const llmc::test::Oracle& oracle, const nlohmann::json& c,
                          const QuantizationArgs& args) {
  const std::string id = c.at("id");
  const at::Tensor zp = oracle.tensor(c, "zero_point");
  const at::Tensor q = llmc::quantize(oracle.tensor(c, "weight"), oracle.tensor(c, "scale"), zp,
                                      args, at::kChar);
  LLMC_CHECK_BIT_EQUAL(llmc::pack_to_int32(q, args.num_bits()), oracle.tensor(c, "weight_packed"),
                       id << " weight_packed");
  const bool packs_zp = !args.symmetric() && (args.strategy() == QuantizationStrategy::Group ||
                                              args.strategy() == QuantizationStrategy::Channel);
  if (packs_zp) {
    LLMC_CHECK_BIT_EQUAL(llmc::pack_to_int32(zp, args.num_bits(), 0),
                         oracle.tensor(c, "packed_zero_point"), id << " packed zero point");
  }
  CHECK(packs_zp == oracle.has_tensor(c, "packed_zero_point"));
}

// nvfp4 / mxfp4: FP4 values packed in nibbles; scales as fp8 (nvfp4) or E8M0 bytes (mx).
void check_fp4_packed(const llmc::test::Oracle& oracle, const nlohmann::json& c,
                      const QuantizationArgs& args) {
  const std::string id = c.at("id");
  const at::Tensor scale = oracle.tensor(c, "scale");
  const at::Tensor q = llmc::quantize(oracle.tensor(c, "weight"), scale,
                                      oracle.tensor(c, "zero_point"), args, std::nullopt,
                                      optional_tensor(oracle, c, "global_scale"));
  LLMC_CHECK_BIT_EQUAL(llmc::pack_fp4_to_uint8(q), oracle.tensor(c, "weight_packed"),
                       id << " weight_packed");
  const at::Tensor packed_scale = args.is_mx()
                                      ? llmc::compress_mx_scale(scale, *args.scale_dtype())
                                      : scale.to(args.scale_dtype().value_or(at::kFloat8_e4m3fn));
  LLMC_CHECK_BIT_EQUAL(packed_scale, oracle.tensor(c, "packed_scale"), id << " weight_scale");
}

}  // namespace

TEST_CASE("compressed weights equal compressed-tensors' pack/nvfp4/mxfp4 compressors") {
  const auto& oracle = llmc::test::Oracle::get("packing");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (!is_kind(c, "compress")) continue;
    const QuantizationArgs args = args_of(c);
    if (args.is_fp4()) {
      check_fp4_packed(oracle, c, args);
    } else {
      check_pack_quantized(oracle, c, args);
    }
    ++compared;
  }
  CHECK(compared == 180);
}

TEST_CASE("pack_to_int32 / unpack_from_int32 equal CT for 1..8 bits, 2-D, 3-D, both dims") {
  const auto& oracle = llmc::test::Oracle::get("packing");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (!is_kind(c, "int32")) continue;
    const std::string id = c.at("id");
    const int64_t bits = c.at("num_bits"), dim = c.at("packed_dim");
    const auto shape = c.at("shape").get<std::vector<int64_t>>();
    const at::Tensor packed = llmc::pack_to_int32(oracle.tensor(c, "values"), bits, dim);
    LLMC_CHECK_BIT_EQUAL(packed, oracle.tensor(c, "packed"), id << " packed");
    LLMC_CHECK_BIT_EQUAL(llmc::unpack_from_int32(oracle.tensor(c, "packed"), bits, shape, dim),
                         oracle.tensor(c, "unpacked"), id << " unpacked");
    ++compared;
  }
  CHECK(compared == 40);
}

TEST_CASE("packed width is ceil(cols*b/32) and repacking round-trips (CT test_pack_quant)") {
  for (int64_t bits = 1; bits <= 8; ++bits) {
    INFO("bits " << bits);
    const int64_t half = int64_t{1} << (bits - 1);
    const at::Tensor values = at::randint(-half, half, {7, 45}, at::kChar);
    const at::Tensor packed = llmc::pack_to_int32(values, bits);
    CHECK(packed.sizes() == at::IntArrayRef({7, (45 * bits + 31) / 32}));
    LLMC_CHECK_BIT_EQUAL(llmc::unpack_from_int32(packed, bits, values.sizes()), values, "2-D");
    const at::Tensor moe = at::randint(-half, half, {3, 5, 33}, at::kChar);
    LLMC_CHECK_BIT_EQUAL(llmc::unpack_from_int32(llmc::pack_to_int32(moe, bits), bits, moe.sizes()),
                         moe, "3-D");
  }
}

TEST_CASE("int4 packs element 0 into the low nibble of word 0 (LC §8.4)") {
  const at::Tensor values = at::tensor({-8, -7, 0, 1, 2, 3, 4, 7}, at::kChar).reshape({1, 8});
  const at::Tensor packed = llmc::pack_to_int32(values, 4);
  // u = v + 8 = {0, 1, 8, 9, 10, 11, 12, 15}, nibble n at bits 4n.
  CHECK(static_cast<uint32_t>(packed.item<int32_t>()) == 0xFCBA9810u);
}

TEST_CASE("asymmetric zero points pack along dim 0 to (ceil(rows*b/32), groups)") {
  const at::Tensor zp = at::randint(-8, 8, {10, 3}, at::kChar);
  const at::Tensor packed = llmc::pack_to_int32(zp, 4, 0);
  CHECK(packed.sizes() == at::IntArrayRef({2, 3}));
  LLMC_CHECK_BIT_EQUAL(llmc::unpack_from_int32(packed, 4, zp.sizes(), 0), zp, "zp round trip");
}

TEST_CASE("pack_to_int32 rejects values that do not fit num_bits, non-int8 and bad bits") {
  const at::Tensor int8_values = at::tensor({-128, 5, 127}, at::kChar).reshape({1, 3});
  CHECK_THROWS_WITH(llmc::pack_to_int32(int8_values, 4),
                    Catch::Contains("num_bits 4") && Catch::Contains("[-8, 7]"));
  CHECK_THROWS_WITH(llmc::pack_to_int32(at::zeros({2, 8}, at::kInt), 4), Catch::Contains("int8"));
  CHECK_THROWS_WITH(llmc::pack_to_int32(at::zeros({2, 8}, at::kChar), 9),
                    Catch::Contains("allowed: 1..8"));
  CHECK_THROWS_AS(llmc::unpack_from_int32(at::zeros({2, 4}, at::kInt), 4, {2, 40}), llmc::Error);
}

TEST_CASE("pack_fp4_to_uint8 / unpack equal CT on every E2M1 value, -0 included") {
  const auto& oracle = llmc::test::Oracle::get("packing");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (!is_kind(c, "fp4")) continue;
    const std::string id = c.at("id");
    const at::Tensor values = oracle.tensor(c, "values");
    LLMC_CHECK_BIT_EQUAL(llmc::pack_fp4_to_uint8(values), oracle.tensor(c, "packed"), id);
    LLMC_CHECK_BIT_EQUAL(
        llmc::unpack_fp4_from_uint8(oracle.tensor(c, "packed"), 4, 12, values.scalar_type()),
        oracle.tensor(c, "unpacked"), id << " unpacked");
    ++compared;
  }
  CHECK(compared == 3);
}

TEST_CASE("nvfp4 packing keeps the sign bit of -0 and puts even columns in the low nibble") {
  const at::Tensor values = at::tensor({-0.0f, 6.0f, 0.5f, -1.5f}).reshape({1, 4});
  const at::Tensor packed = llmc::pack_fp4_to_uint8(values);
  CHECK(packed[0][0].item<uint8_t>() == 0x78);  // low nibble -0 → 0b1000, high 6 → 0b0111
  CHECK(packed[0][1].item<uint8_t>() == 0xB1);  // low 0.5 → 1, high -1.5 → 0b1011
  const at::Tensor back = llmc::unpack_fp4_from_uint8(packed, 1, 4, at::kFloat);
  CHECK(std::signbit(back[0][0].item<float>()));
  LLMC_CHECK_BIT_EQUAL(back, values, "round trip");
}

TEST_CASE("nvfp4 packing rejects odd widths") {
  CHECK_THROWS_WITH(llmc::pack_fp4_to_uint8(at::zeros({2, 5})),
                    Catch::Contains("columns 5 is odd"));
}

TEST_CASE("MX scales compress to E8M0 bytes and back to powers of two") {
  const at::Tensor scales = at::tensor({0.25f, 1.0f, 8.0f, 0.0078125f});
  const at::Tensor bytes = llmc::compress_mx_scale(scales);
  CHECK(bytes.scalar_type() == at::kByte);
  LLMC_CHECK_BIT_EQUAL(bytes, at::tensor({125, 127, 130, 120}, at::kByte), "e8m0");
  LLMC_CHECK_BIT_EQUAL(llmc::decompress_mx_scale(bytes), scales.to(at::kBFloat16), "decoded");
}
