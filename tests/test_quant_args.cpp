// QuantizationArgs: defaults, inference, aliases, validation errors and JSON (the properties of
// compressed-tensors' tests/test_quantization/test_quant_args.py, at CT 0.19 semantics).
#include "support/catch.hpp"
#include <llmc/quant/quantization_args.hpp>

#include "support/error_of.hpp"

using llmc::QuantizationArgs;
using llmc::QuantizationStrategy;
using llmc::QuantizationType;
using llmc::test::error_of;
using nlohmann::json;

namespace {

QuantizationArgs parse(const std::string& text) {
  return QuantizationArgs::from_json(json::parse(text));
}

std::string parse_error(const std::string& text) {
  return error_of([&] { parse(text); });
}

}  // namespace

TEST_CASE("QuantizationArgs defaults are 8-bit symmetric static int with nothing inferred yet") {
  const QuantizationArgs args;
  CHECK(args.num_bits() == 8);
  CHECK(args.type() == QuantizationType::Int);
  CHECK(args.symmetric());
  CHECK_FALSE(args.strategy());
  CHECK_FALSE(args.group_size());
  CHECK_FALSE(args.block_structure());
  CHECK(args.dynamic() == llmc::DynamicType::Static);
  CHECK_FALSE(args.actorder());
  CHECK_FALSE(args.observer());
  CHECK(args.observer_kwargs() == json::object());
}

TEST_CASE("validated infers strategy from group_size: none tensor, positive group, -1 channel") {
  CHECK(QuantizationArgs().validated().strategy() == QuantizationStrategy::Tensor);
  CHECK(QuantizationArgs().group_size(128).validated().strategy() == QuantizationStrategy::Group);
  CHECK(QuantizationArgs().group_size(-1).validated().strategy() == QuantizationStrategy::Channel);
}

TEST_CASE("validated leaves observer unset, as compressed-tensors 0.19 does") {
  CHECK_FALSE(QuantizationArgs().validated().observer());
  const auto dynamic = QuantizationArgs().dynamic(llmc::DynamicType::Dynamic).observer("mse");
  CHECK(dynamic.validated().observer() == "mse");
}

TEST_CASE("validated infers zp_dtype from type and bits") {
  CHECK(QuantizationArgs().num_bits(4).validated().zp_dtype() == c10::ScalarType::Char);
  CHECK(QuantizationArgs().num_bits(12).validated().zp_dtype() == c10::ScalarType::Short);
  CHECK(QuantizationArgs().num_bits(24).validated().zp_dtype() == c10::ScalarType::Int);
  const auto fp = QuantizationArgs().type(QuantizationType::Float);
  CHECK(QuantizationArgs(fp).num_bits(8).validated().zp_dtype() == c10::ScalarType::Float8_e4m3fn);
  CHECK(QuantizationArgs(fp).num_bits(4).validated().zp_dtype() == c10::ScalarType::Float8_e4m3fn);
  const auto explicit_zp = QuantizationArgs().zp_dtype(c10::ScalarType::Int).validated();
  CHECK(explicit_zp.zp_dtype() == c10::ScalarType::Int);
}

TEST_CASE("group strategy keeps its group size and parses case-insensitively") {
  const auto args = parse(R"({"strategy": "GROUP", "group_size": 128, "type": "InT"})");
  CHECK(args.strategy() == QuantizationStrategy::Group);
  CHECK(args.group_size() == 128);
  CHECK(args.type() == QuantizationType::Int);
}

TEST_CASE("block_structure accepts the legacy RxC string and stores [rows, cols]") {
  const auto args = parse(R"({"strategy": "block", "block_structure": "2x4"})");
  CHECK(args.block_structure() == std::vector<int64_t>{2, 4});
  CHECK(args == parse(R"({"strategy": "block", "block_structure": [2, 4]})"));
}

TEST_CASE("actorder: static aliases weight, false means none, group ordering is rejected") {
  const auto weight = parse(R"({"group_size": 128, "actorder": "weight"})");
  CHECK(weight.actorder() == llmc::ActivationOrdering::Weight);
  CHECK(parse(R"({"group_size": 128, "actorder": "static"})") == weight);
  CHECK_FALSE(parse(R"({"group_size": 128, "actorder": false})").actorder());
  CHECK_THAT(parse_error(R"({"group_size": 128, "actorder": true})"),
             Catch::Contains("QuantizationArgs.actorder") && Catch::Contains("removed"));
  CHECK_THAT(parse_error(R"({"group_size": 128, "actorder": "group"})"),
             Catch::Contains("QuantizationArgs.actorder") && Catch::Contains("allowed: weight"));
  CHECK_THAT(parse_error(R"({"group_size": 128, "actorder": "dynamic"})"),
             Catch::Contains("removed"));
  CHECK_THAT(
      error_of([] { QuantizationArgs().actorder(llmc::ActivationOrdering::Group).validated(); }),
      Catch::Contains("QuantizationArgs.actorder"));
}

TEST_CASE("actorder weight is accepted on a non-group strategy, as upstream no longer checks it") {
  CHECK(parse(R"({"strategy": "channel", "actorder": "weight"})").strategy() ==
        QuantizationStrategy::Channel);
}

TEST_CASE("num_bits out of range is rejected naming the field and the allowed range") {
  for (int bits : {0, -3, 33, 64}) {
    CHECK_THAT(error_of([&] { QuantizationArgs().num_bits(bits).validated(); }),
               Catch::Contains("QuantizationArgs.num_bits: " + std::to_string(bits)) &&
                   Catch::Contains("allowed: 1..32"));
  }
  for (int bits : {5, 9, 16}) {
    CHECK_THAT(error_of([&] {
                 QuantizationArgs().type(QuantizationType::Float).num_bits(bits).validated();
               }),
               Catch::Contains("QuantizationArgs.num_bits") && Catch::Contains("allowed: 4, 8"));
  }
  CHECK_THAT(parse_error(R"({"num_bits": 4.5})"), Catch::Contains("QuantizationArgs.num_bits"));
}

TEST_CASE("invalid group_size values are rejected") {
  CHECK_THAT(parse_error(R"({"group_size": 0})"), Catch::Contains("QuantizationArgs.group_size"));
  CHECK_THAT(parse_error(R"({"group_size": -2})"), Catch::Contains("QuantizationArgs.group_size"));
  CHECK_THAT(parse_error(R"({"strategy": "group"})"),
             Catch::Contains("group_size") && Catch::Contains("positive"));
  CHECK_THAT(parse_error(R"({"strategy": "group", "group_size": -1})"),
             Catch::Contains("group_size"));
  CHECK_THAT(parse_error(R"({"strategy": "tensor_group"})"), Catch::Contains("group_size"));
  CHECK_THAT(
      parse_error(R"({"strategy": "channel", "group_size": 128})"),
      Catch::Contains("QuantizationArgs.strategy") && Catch::Contains("requires strategy group"));
}

TEST_CASE("unknown strategy and type are rejected listing the allowed values") {
  CHECK_THAT(parse_error(R"({"strategy": "foo"})"),
             Catch::Equals("QuantizationArgs.strategy: unknown 'foo' (allowed: tensor, channel, "
                           "group, block, token, tensor_group, attn_head)"));
  CHECK_THAT(parse_error(R"({"type": "int4"})"),
             Catch::Equals("QuantizationArgs.type: unknown 'int4' (allowed: int, float)"));
}

TEST_CASE("block strategy and block_structure require each other and two positive dims") {
  CHECK_THAT(parse_error(R"({"strategy": "block"})"),
             Catch::Contains("QuantizationArgs.block_structure"));
  CHECK_THAT(parse_error(R"({"block_structure": [2, 4]})"),
             Catch::Contains("QuantizationArgs.strategy") && Catch::Contains("block"));
  for (const char* bad : {R"("2x4x8")", "[2, 4, 8]", R"("2xfoo")", "[0, 4]", R"("4x-1")"}) {
    CHECK_THAT(parse_error(std::string(R"({"strategy": "block", "block_structure": )") + bad + "}"),
               Catch::Contains("QuantizationArgs.block_structure"));
  }
}

TEST_CASE("token strategy requires dynamic; dynamic needs token, tensor, group or tensor_group") {
  CHECK_THAT(parse_error(R"({"strategy": "token"})"),
             Catch::Contains("QuantizationArgs.dynamic") && Catch::Contains("token"));
  CHECK(parse(R"({"strategy": "token", "dynamic": true})").strategy() ==
        QuantizationStrategy::Token);
  CHECK_THAT(parse_error(R"({"strategy": "channel", "dynamic": true})"),
             Catch::Contains("QuantizationArgs.strategy") && Catch::Contains("dynamic"));
  CHECK_THAT(parse_error(R"({"strategy": "attn_head", "dynamic": true})"),
             Catch::Contains("dynamic"));
}

TEST_CASE("dynamic local is only valid with tensor_group and parses case-insensitively") {
  const auto local = parse(R"({"strategy": "tensor_group", "group_size": 16, "dynamic": "LOCAL"})");
  CHECK(local.dynamic() == llmc::DynamicType::Local);
  CHECK_THAT(parse_error(R"({"dynamic": "local"})"), Catch::Contains("tensor_group"));
  CHECK_THAT(parse_error(R"({"dynamic": "true"})"),
             Catch::Contains("QuantizationArgs.dynamic") && Catch::Contains("\"local\""));
}

TEST_CASE("unknown JSON keys are rejected naming the key and the known keys") {
  CHECK_THAT(parse_error(R"({"num_bit": 4})"),
             Catch::Contains("QuantizationArgs.num_bit: unknown key") &&
                 Catch::Contains("allowed: num_bits, type"));
}

TEST_CASE("dtype strings accept an optional torch. prefix and serialise with it") {
  CHECK(llmc::parse_torch_dtype("float8_e4m3fn", "f") == c10::ScalarType::Float8_e4m3fn);
  CHECK(llmc::parse_torch_dtype("torch.float8_e4m3fn", "f") == c10::ScalarType::Float8_e4m3fn);
  CHECK(llmc::parse_torch_dtype("torch.half", "f") == c10::ScalarType::Half);
  CHECK(llmc::torch_dtype_name(c10::ScalarType::Half) == "torch.float16");
  CHECK(llmc::torch_dtype_name(c10::ScalarType::Byte) == "torch.uint8");
  CHECK_THAT(
      error_of([] { llmc::parse_torch_dtype("torch.Float32", "QuantizationArgs.scale_dtype"); }),
      Catch::Contains("QuantizationArgs.scale_dtype: no such torch dtype"));
}

TEST_CASE("to_json writes every field with upstream spellings and hides symmetric zp_dtype") {
  const auto args = QuantizationArgs()
                        .num_bits(4)
                        .type(QuantizationType::Float)
                        .group_size(16)
                        .strategy(QuantizationStrategy::TensorGroup)
                        .dynamic(llmc::DynamicType::Local)
                        .scale_dtype(c10::ScalarType::Float8_e4m3fn)
                        .validated();
  const json expected = {{"num_bits", 4},
                         {"type", "float"},
                         {"symmetric", true},
                         {"group_size", 16},
                         {"strategy", "tensor_group"},
                         {"block_structure", nullptr},
                         {"dynamic", "local"},
                         {"actorder", nullptr},
                         {"scale_dtype", "torch.float8_e4m3fn"},
                         {"zp_dtype", nullptr},
                         {"observer", nullptr},
                         {"observer_kwargs", json::object()}};
  CHECK(args.to_json() == expected);
  CHECK(QuantizationArgs().symmetric(false).validated().to_json()["zp_dtype"] == "torch.int8");
}

TEST_CASE("from_json of to_json reproduces the args") {
  const auto args = QuantizationArgs()
                        .num_bits(3)
                        .symmetric(false)
                        .group_size(64)
                        .actorder(llmc::ActivationOrdering::Weight)
                        .observer("imatrix_mse")
                        .observer_kwargs({{"maxshrink", 0.3}})
                        .validated();
  CHECK(QuantizationArgs::from_json(args.to_json()) == args);
}

TEST_CASE("q_min and q_max are the signed int range, fp8 448 and fp4 6") {
  CHECK(QuantizationArgs().num_bits(4).q_min() == -8.0);
  CHECK(QuantizationArgs().num_bits(4).q_max() == 7.0);
  CHECK(QuantizationArgs().num_bits(8).q_min() == -128.0);
  const auto fp = QuantizationArgs().type(QuantizationType::Float);
  CHECK(QuantizationArgs(fp).num_bits(8).q_max() == 448.0);
  CHECK(QuantizationArgs(fp).num_bits(4).q_min() == -6.0);
  CHECK(QuantizationArgs(fp).num_bits(4).is_fp4());
}

TEST_CASE("is_mx needs float 4 or 8 bits, group 32 and uint8 scales") {
  const auto mx = QuantizationArgs()
                      .type(QuantizationType::Float)
                      .num_bits(4)
                      .group_size(32)
                      .scale_dtype(c10::ScalarType::Byte);
  CHECK(mx.is_mx());
  CHECK_FALSE(QuantizationArgs(mx).group_size(16).is_mx());
  CHECK_FALSE(QuantizationArgs(mx).scale_dtype(c10::ScalarType::Float8_e4m3fn).is_mx());
  CHECK_FALSE(QuantizationArgs(mx).type(QuantizationType::Int).is_mx());
}
