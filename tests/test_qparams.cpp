// calculate_qparams, generate_gparam, the rounding helpers and qparam shapes against
// compressed-tensors (oracle tests/oracle/qparams.py) and the properties of CT test_helpers.
#include <llmc/error.hpp>
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

TEST_CASE("calculate_qparams equals compressed-tensors for every preset, strategy, dtype, kind") {
  const auto& oracle = llmc::test::Oracle::get("qparams");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (!is_kind(c, "weight")) continue;
    const std::string id = c.at("id");
    const QuantizationArgs args = args_of(c);
    std::optional<at::Tensor> global_scale;
    if (oracle.has_tensor(c, "global_scale")) {
      const at::Tensor gs = llmc::generate_gparam(oracle.tensor(c, "gparam_min"),
                                                  oracle.tensor(c, "gparam_max"));
      LLMC_CHECK_BIT_EQUAL(gs, oracle.tensor(c, "global_scale"), id << " global_scale");
      global_scale = oracle.tensor(c, "global_scale");
    }
    const auto [scale, zp] = llmc::calculate_qparams(
        oracle.tensor(c, "min_vals"), oracle.tensor(c, "max_vals"), args, global_scale);
    LLMC_CHECK_BIT_EQUAL(scale, oracle.tensor(c, "scale"), id << " scale");
    LLMC_CHECK_BIT_EQUAL(zp, oracle.tensor(c, "zero_point"), id << " zero_point");
    ++compared;
  }
  CHECK(compared > 700);
}

TEST_CASE("int8 [1,1,1,1,1] gives scale 1/127.5 sym and 1/255 with zp -128 asym (LC §6.2)") {
  const auto& oracle = llmc::test::Oracle::get("qparams");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (!is_kind(c, "golden")) continue;
    const QuantizationArgs args = args_of(c);
    const auto [scale, zp] = llmc::calculate_qparams(at::ones({1}), at::ones({1}), args);
    LLMC_CHECK_BIT_EQUAL(scale, oracle.tensor(c, "scale"), c.at("id"));
    LLMC_CHECK_BIT_EQUAL(zp, oracle.tensor(c, "zero_point"), c.at("id"));
    const float expected = args.symmetric() ? 1.0f / 127.5f : 1.0f / 255.0f;
    CHECK(scale.item<float>() == expected);
    CHECK(zp.item<int8_t>() == (args.symmetric() ? 0 : -128));
    ++compared;
  }
  CHECK(compared == 2);
}

TEST_CASE("round_to_quantized_type_dtype clamps and rounds like compressed-tensors") {
  const auto& oracle = llmc::test::Oracle::get("qparams");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (!is_kind(c, "rounding")) continue;
    const at::Tensor x = oracle.tensor(c, "input");
    const std::string id = c.at("id");
    using llmc::round_to_quantized_type_dtype;
    LLMC_CHECK_BIT_EQUAL(round_to_quantized_type_dtype(x, at::kFloat8_e4m3fn),
                         oracle.tensor(c, "to_fp8"), id << " fp8");
    LLMC_CHECK_BIT_EQUAL(round_to_quantized_type_dtype(x, at::kChar), oracle.tensor(c, "to_int8"),
                         id << " int8");
    LLMC_CHECK_BIT_EQUAL(round_to_quantized_type_dtype(x, at::kByte), oracle.tensor(c, "to_uint8"),
                         id << " uint8");
    LLMC_CHECK_BIT_EQUAL(round_to_quantized_type_dtype(x, at::kFloat8_e4m3fn, true),
                         oracle.tensor(c, "to_fp8_back"), id << " fp8 cast back");
    ++compared;
  }
  CHECK(compared == 3);
}

TEST_CASE("round_to_quantized_type_args clamps to the args range and rounds per type") {
  const auto& oracle = llmc::test::Oracle::get("qparams");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (!is_kind(c, "round_args")) continue;
    const at::Tensor out = llmc::round_to_quantized_type_args(oracle.tensor(c, "input"), args_of(c));
    LLMC_CHECK_BIT_EQUAL(out, oracle.tensor(c, "output"), c.at("id"));
    ++compared;
  }
  CHECK(compared == 12);
}

TEST_CASE("zero scales become the eps of the scale dtype") {
  const at::Tensor zeros = at::zeros({3, 1}, at::kBFloat16);
  const auto bf16 = llmc::calculate_qparams(zeros, zeros, QuantizationArgs().validated());
  CHECK((bf16.first == 0.0078125).all().item<bool>());
  const auto fp8_scale = llmc::calculate_qparams(
      zeros.to(at::kFloat), zeros.to(at::kFloat),
      QuantizationArgs().num_bits(8).type(llmc::QuantizationType::Float)
          .scale_dtype(at::kFloat8_e4m3fn).validated());
  CHECK((fp8_scale.first == 0.125).all().item<bool>());
  const auto fp32 = llmc::calculate_qparams(zeros.to(at::kFloat), zeros.to(at::kFloat),
                                            QuantizationArgs().validated());
  CHECK((fp32.first == std::numeric_limits<float>::epsilon()).all().item<bool>());
}

TEST_CASE("0-dim min/max give qparams of shape (1,)") {
  const auto [scale, zp] = llmc::calculate_qparams(at::scalar_tensor(-1.0), at::scalar_tensor(2.0),
                                                   QuantizationArgs().symmetric(false).validated());
  CHECK(scale.sizes() == at::IntArrayRef{1});
  CHECK(zp.sizes() == at::IntArrayRef{1});
  CHECK(zp.scalar_type() == at::kChar);
}

TEST_CASE("calculate_qparams rejects NaN statistics, naming the tensor") {
  const at::Tensor min = at::tensor({-1.0f, std::numeric_limits<float>::quiet_NaN()});
  const at::Tensor max = at::ones({2});
  const auto args = QuantizationArgs().num_bits(4).validated();
  CHECK_THROWS_WITH(llmc::calculate_qparams(min, max, args),
                    Catch::Contains("min_vals") && Catch::Contains("not finite"));
  // A NaN weight reaches the observer's min/max, so it is reported here too.
  at::Tensor weight = at::randn({4, 8});
  weight[1][3] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(llmc::calculate_qparams(weight.amin(1, true), weight.amax(1, true), args),
                  llmc::Error);
}

TEST_CASE("asymmetric FP4 is rejected as upstream's NotImplementedError") {
  const auto args = QuantizationArgs().num_bits(4).type(llmc::QuantizationType::Float)
                        .symmetric(false).group_size(16).validated();
  CHECK_THROWS_WITH(llmc::calculate_qparams(-at::ones({2, 1}), at::ones({2, 1}), args),
                    Catch::Contains("FP4"));
}

TEST_CASE("calculate_qparams requires validated args") {
  CHECK_THROWS_WITH(llmc::calculate_qparams(at::zeros({1}), at::ones({1}), QuantizationArgs()),
                    Catch::Contains("validated"));
}

TEST_CASE("generate_gparam is 2688/amax in fp32 (1,), and 1 for non-finite results") {
  const at::Tensor w = at::randn({16, 64}, at::TensorOptions().dtype(at::kBFloat16)) * 3;
  const at::Tensor gs = llmc::generate_gparam(w.amin().reshape(1), w.amax().reshape(1));
  CHECK(gs.scalar_type() == at::kFloat);
  CHECK(gs.sizes() == at::IntArrayRef{1});
  const double amax = w.abs().max().item<double>();
  CHECK(amax == Approx(2688.0 / gs.item<double>()).epsilon(0.01));
  // All-zero weights: amax clamps to finfo.tiny and 2688/tiny overflows → 1.
  const at::Tensor zero = at::zeros({1}, at::kHalf);
  CHECK(llmc::generate_gparam(zero, zero).item<float>() == 1.0f);
}

TEST_CASE("qparam_shape per strategy, non-divisible blocks rounded up (CT test_helpers)") {
  using llmc::qparam_shape;
  using V = std::vector<int64_t>;
  CHECK(qparam_shape(QuantizationArgs().validated(), {10, 20}) == V({1}));
  CHECK(qparam_shape(QuantizationArgs().group_size(-1).validated(), {10, 20}) == V({10, 1}));
  CHECK(qparam_shape(QuantizationArgs().group_size(4).validated(), {10, 20}) == V({10, 5}));
  CHECK(qparam_shape(QuantizationArgs().group_size(16).type(llmc::QuantizationType::Float)
                         .num_bits(4).strategy(QuantizationStrategy::TensorGroup).validated(),
                     {3, 10, 64}) == V({3, 10, 4}));
  const auto block = QuantizationArgs().strategy(QuantizationStrategy::Block)
                         .block_structure(V{128, 128}).validated();
  CHECK(qparam_shape(block, {300, 256}) == V({3, 2}));
  CHECK(qparam_shape(block, {130, 200}) == V({2, 2}));
  CHECK(qparam_shape(QuantizationArgs().strategy(QuantizationStrategy::AttnHead).validated(),
                     {2, 8, 5, 64}) == V({8, 1, 1}));
  const auto token = QuantizationArgs().strategy(QuantizationStrategy::Token)
                         .dynamic(llmc::DynamicType::Dynamic).validated();
  CHECK_THROWS_AS(qparam_shape(token, {4, 8}), llmc::Error);
  CHECK_THROWS_AS(qparam_shape(block, {64}), llmc::Error);
}
