// quantize / dequantize / fake_quantize / dynamic qparams against compressed-tensors (oracle
// tests/oracle/forward.py) and the properties of CT lifecycle/test_forward.
#include <llmc/error.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/qparams.hpp>

#include <limits>

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
using llmc::QuantizationType;

namespace {

// The dtype compressed-tensors' compressors quantize into (int8 / e4m3 / float for fp4).
std::optional<c10::ScalarType> storage_dtype(const QuantizationArgs& args) {
  if (args.type() == QuantizationType::Int) return at::kChar;
  if (args.num_bits() == 8) return at::kFloat8_e4m3fn;
  return std::nullopt;
}

// Compares fake_quantize, quantize and dequantize of one static case; returns 1 when run.
int check_static_case(const llmc::test::Oracle& oracle, const nlohmann::json& c) {
  const std::string id = c.at("id");
  const QuantizationArgs args = args_of(c);
  const at::Tensor w = oracle.tensor(c, "weight");
  const at::Tensor scale = oracle.tensor(c, "scale");
  const at::Tensor zp = oracle.tensor(c, "zero_point");
  const auto gs = optional_tensor(oracle, c, "global_scale");
  const auto g_idx = optional_tensor(oracle, c, "g_idx");
  LLMC_CHECK_BIT_EQUAL(llmc::fake_quantize(w, scale, zp, args, gs, g_idx), oracle.tensor(c, "qdq"),
                       id << " fake_quantize");
  const at::Tensor q = llmc::quantize(w, scale, zp, args, storage_dtype(args), gs, g_idx);
  LLMC_CHECK_BIT_EQUAL(q, oracle.tensor(c, "q"), id << " quantize");
  LLMC_CHECK_BIT_EQUAL(llmc::dequantize(oracle.tensor(c, "q"), scale, zp, args, std::nullopt, gs,
                                        g_idx),
                       oracle.tensor(c, "dq"), id << " dequantize");
  return 1;
}

}  // namespace

TEST_CASE("fake_quantize, quantize, dequantize equal compressed-tensors for every weight case") {
  const auto& oracle = llmc::test::Oracle::get("forward");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (is_kind(c, "weight")) compared += check_static_case(oracle, c);
  }
  CHECK(compared > 700);
}

TEST_CASE("g_idx permutes columns into group order and back (activation order)") {
  const auto& oracle = llmc::test::Oracle::get("forward");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (is_kind(c, "g_idx")) compared += check_static_case(oracle, c);
  }
  CHECK(compared == 8);
}

TEST_CASE("bf16 arange(24) golden matrices of LC test_lifecycle, every strategy") {
  const auto& oracle = llmc::test::Oracle::get("forward");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (is_kind(c, "golden")) compared += check_static_case(oracle, c);
  }
  CHECK(compared == 5);
  // LC §6.2: scale 23/7.5 → bf16 3.0625; 23 → 7.51 → clamp 7 → 21.4375 → bf16 21.5.
  const at::Tensor w = at::arange(24, at::kBFloat16).reshape({4, 6});
  const auto args = QuantizationArgs().num_bits(4).validated();
  const auto [scale, zp] = llmc::calculate_qparams(w.amin().reshape(1), w.amax().reshape(1), args);
  CHECK(scale.item<float>() == 3.0625f);
  const at::Tensor qdq = llmc::fake_quantize(w, scale, zp, args);
  const at::Tensor row0 = at::tensor({0.0, 0.0, 3.0625, 3.0625, 3.0625, 6.125}).to(at::kBFloat16);
  LLMC_CHECK_BIT_EQUAL(qdq[0], row0, "row 0");
  CHECK(qdq[3][5].item<float>() == 21.5f);
}

TEST_CASE("dynamic activation qparams and fake_quantize equal compressed-tensors") {
  const auto& oracle = llmc::test::Oracle::get("forward");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (!is_kind(c, "dynamic")) continue;
    const std::string id = c.at("id");
    const QuantizationArgs args = args_of(c);
    const at::Tensor x = oracle.tensor(c, "input");
    const auto gs = optional_tensor(oracle, c, "global_scale");
    const auto [scale, zp] = llmc::compute_dynamic_scales_and_zp(x, args, gs);
    LLMC_CHECK_BIT_EQUAL(scale, oracle.tensor(c, "scale"), id << " scale");
    LLMC_CHECK_BIT_EQUAL(zp, oracle.tensor(c, "zero_point"), id << " zero_point");
    LLMC_CHECK_BIT_EQUAL(llmc::fake_quantize(x, scale, zp, args, gs), oracle.tensor(c, "qdq"),
                         id << " fake_quantize");
    ++compared;
  }
  CHECK(compared == 54);
}

TEST_CASE("attn_head qparams broadcast per head like compressed-tensors") {
  const auto& oracle = llmc::test::Oracle::get("forward");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (!is_kind(c, "attn_head")) continue;
    const std::string id = c.at("id");
    const QuantizationArgs args = args_of(c);
    const auto [scale, zp] = llmc::calculate_qparams(oracle.tensor(c, "min_vals"),
                                                     oracle.tensor(c, "max_vals"), args);
    LLMC_CHECK_BIT_EQUAL(scale, oracle.tensor(c, "scale"), id << " scale");
    CHECK(scale.sizes() == at::IntArrayRef(llmc::qparam_shape(args, {2, 4, 6, 32})));
    LLMC_CHECK_BIT_EQUAL(llmc::fake_quantize(oracle.tensor(c, "input"), scale, zp, args),
                         oracle.tensor(c, "qdq"), id << " fake_quantize");
    ++compared;
  }
  CHECK(compared == 6);
}

TEST_CASE("fake_quantize equals dequantize(quantize) for int, fp8 and fp4 (CT test_forward)") {
  const auto cases = {
      QuantizationArgs().num_bits(4).group_size(16).symmetric(false).validated(),
      QuantizationArgs().num_bits(8).type(QuantizationType::Float).group_size(-1).validated(),
      QuantizationArgs().num_bits(4).type(QuantizationType::Float).group_size(16)
          .scale_dtype(at::kFloat8_e4m3fn).validated(),
      QuantizationArgs().num_bits(8).strategy(QuantizationStrategy::Block)
          .block_structure(std::vector<int64_t>{4, 8}).validated()};
  const at::Tensor w = at::randn({12, 64}, at::TensorOptions().dtype(at::kFloat));
  for (const QuantizationArgs& args : cases) {
    INFO(args);
    const auto shape = llmc::qparam_shape(args, w.sizes());
    const auto observed = args.strategy() == QuantizationStrategy::Block
                              ? w.reshape({3, 4, 8, 8}).transpose(1, 2).reshape({3, 8, 32})
                              : w.reshape({12, shape[1], -1});
    const auto [scale, zp] = llmc::calculate_qparams(observed.amin(-1), observed.amax(-1), args);
    const at::Tensor q = llmc::quantize(w, scale, zp, args, storage_dtype(args));
    const at::Tensor sequential = llmc::dequantize(q, scale, zp, args, at::kFloat);
    // Equal values: the fused path keeps the sign of a -0 that the int8 detour drops.
    CHECK(at::equal(llmc::fake_quantize(w, scale, zp, args), sequential));
  }
}

TEST_CASE("block quantization pads non-divisible shapes and crops back (CT test_forward)") {
  const auto args = QuantizationArgs().num_bits(8).type(QuantizationType::Float)
                        .strategy(QuantizationStrategy::Block)
                        .block_structure(std::vector<int64_t>{128, 128}).validated();
  // Seeded, and inside e4m3's range at this scale (448 * 0.01 = 4.48): unseeded normal values
  // passed 4.48 in about 1 run in 60 here, and a saturated value's error is not a rounding's.
  at::manual_seed(38);
  const at::Tensor w = at::randn({130, 200}).clamp(-4.0, 4.0);
  const auto shape = llmc::qparam_shape(args, w.sizes());
  CHECK(shape == std::vector<int64_t>({2, 2}));
  const at::Tensor scale = at::full(shape, 0.01);
  const at::Tensor out = llmc::fake_quantize(w, scale, std::nullopt, args);
  CHECK(out.sizes() == w.sizes());
  CHECK(out.scalar_type() == at::kFloat);
  // e4m3 keeps 3 mantissa bits: error ≤ 2^-4 relative, or half the subnormal step 2^-10 × scale.
  CHECK(((out - w).abs() <= w.abs() * 0.0625 + 0.01 * 0.0009765625).all().item<bool>());
}

TEST_CASE("group size not dividing the columns is rejected naming both numbers") {
  const auto args = QuantizationArgs().num_bits(4).group_size(128).validated();
  const at::Tensor scale = at::ones({4, 1});
  CHECK_THROWS_WITH(llmc::fake_quantize(at::randn({4, 200}), scale, std::nullopt, args),
                    Catch::Contains("columns 200 not divisible by group_size 128"));
  // cols < gs fails inside torch's unflatten upstream; reported the same way here.
  CHECK_THROWS_WITH(llmc::fake_quantize(at::randn({4, 100}), scale, std::nullopt, args),
                    Catch::Contains("columns 100 not divisible by group_size 128"));
}

TEST_CASE("fake_quantize rejects a NaN scale and shapes that do not broadcast") {
  const auto args = QuantizationArgs().num_bits(8).group_size(-1).validated();
  const at::Tensor w = at::randn({4, 16});
  at::Tensor scale = at::ones({4, 1});
  scale[2][0] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(llmc::fake_quantize(w, scale, std::nullopt, args),
                    Catch::Contains("fake_quantize: scale") && Catch::Contains("not finite"));
  CHECK_THROWS_AS(llmc::fake_quantize(w, at::ones({3, 1}), std::nullopt, args), llmc::Error);
}

TEST_CASE("dynamic quantization rejects channel and block strategies") {
  const auto args = QuantizationArgs().num_bits(8).group_size(-1).validated();
  CHECK_THROWS_WITH(llmc::compute_dynamic_scales_and_zp(at::randn({4, 16}), args),
                    Catch::Contains("channel"));
}
