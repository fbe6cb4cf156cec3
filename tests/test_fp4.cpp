// FP4 (E2M1) rounding and MX exponent helpers against compressed-tensors (oracle
// tests/oracle/qparams.py, "round.*" cases) and the boundary values of CT test_fp4_utils.
#include <llmc/error.hpp>
#include <llmc/quant/fp4.hpp>

#include <cmath>

#include "support/oracle.hpp"

// ATen's c10/util/Logging.h defines a glog-style CHECK (fatal abort); Catch's must win.
#undef CHECK
#include "support/catch.hpp"

TEST_CASE("cast_to_fp4 maps every boundary to the even mantissa (CT test_fp4_utils)") {
  const at::Tensor x = at::tensor({0.0f, 0.25f, 0.26f, 0.74f, 0.75f, 1.25f, 1.26f, 1.74f, 1.75f,
                                   2.5f, 2.51f, 3.49f, 3.5f, 5.0f, 5.1f, 100.0f});
  const at::Tensor expected = at::tensor({0.0f, 0.0f, 0.5f, 0.5f, 1.0f, 1.0f, 1.5f, 1.5f, 2.0f,
                                          2.0f, 3.0f, 3.0f, 4.0f, 4.0f, 6.0f, 6.0f});
  LLMC_CHECK_BIT_EQUAL(llmc::cast_to_fp4(x), expected, "positive");
  LLMC_CHECK_BIT_EQUAL(llmc::cast_to_fp4(-x.slice(0, 1)), -expected.slice(0, 1), "negative");
  LLMC_CHECK_BIT_EQUAL(llmc::cast_to_fp4(x.to(at::kBFloat16)), expected.to(at::kBFloat16), "bf16");
}

TEST_CASE("cast_to_fp4 leaves its input untouched and keeps dtype and shape") {
  const at::Tensor x = at::full({2, 3}, 0.3, at::kHalf);
  const at::Tensor y = llmc::cast_to_fp4(x);
  CHECK(y.scalar_type() == at::kHalf);
  CHECK(y.sizes() == x.sizes());
  CHECK((x == 0.3).all().item<bool>());
}

TEST_CASE("cast_to_fp4, round_to_power_2 and MX exponents equal compressed-tensors") {
  const auto& oracle = llmc::test::Oracle::get("qparams");
  int compared = 0;
  for (const auto& c : oracle.cases()) {
    if (c.at("kind_of_case") != "rounding") continue;
    const std::string id = c.at("id");
    const at::Tensor x = oracle.tensor(c, "input");
    LLMC_CHECK_BIT_EQUAL(llmc::cast_to_fp4(x), oracle.tensor(c, "cast_fp4"), id << " fp4");
    LLMC_CHECK_BIT_EQUAL(llmc::round_to_power_2(x.abs()), oracle.tensor(c, "pow2"), id << " pow2");
    LLMC_CHECK_BIT_EQUAL(llmc::generate_mx_scales(x.abs(), 4), oracle.tensor(c, "mx4"), id << " mx4");
    LLMC_CHECK_BIT_EQUAL(llmc::generate_mx_scales(x.abs(), 8), oracle.tensor(c, "mx8"), id << " mx8");
    ++compared;
  }
  CHECK(compared == 3);
}

TEST_CASE("MX exponents decode to 2^(e-127) and reject other widths") {
  const at::Tensor e8m0 = at::tensor({120, 127, 130}, at::kByte);
  const at::Tensor scales = llmc::mx_exponents_to_scales(e8m0, at::kBFloat16);
  LLMC_CHECK_BIT_EQUAL(scales, at::tensor({0.0078125f, 1.0f, 8.0f}).to(at::kBFloat16), "decoded");
  CHECK_THROWS_WITH(llmc::generate_mx_scales(at::ones({2}), 6), Catch::Contains("allowed: 4, 8"));
  CHECK_THROWS_AS(llmc::round_to_power_2(at::ones({2}, at::kInt)), llmc::Error);
}
