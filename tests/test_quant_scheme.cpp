// QuantizationScheme rules (LC §4.2) and JSON; properties of compressed-tensors'
// tests/test_quantization/test_quant_scheme.py.
#include "support/catch.hpp"
#include <llmc/quant/quantization_scheme.hpp>

#include "support/error_of.hpp"

using llmc::QuantizationArgs;
using llmc::QuantizationScheme;
using llmc::QuantizationStrategy;
using llmc::test::error_of;
using nlohmann::json;

namespace {

std::string parse_error(const std::string& text) {
  return error_of([&] { QuantizationScheme::from_json(json::parse(text)); });
}

}  // namespace

TEST_CASE("a scheme with only targets quantizes nothing and has no format") {
  const auto scheme = QuantizationScheme::from_json(json::parse(R"({"targets": ["Linear"]})"));
  CHECK(scheme.targets() == std::vector<std::string>{"Linear"});
  CHECK_FALSE(scheme.weights());
  CHECK_FALSE(scheme.input_activations());
  CHECK_FALSE(scheme.output_activations());
  CHECK_FALSE(scheme.format());
}

TEST_CASE("validated validates every args of the scheme") {
  const auto scheme = QuantizationScheme()
                          .targets({"Linear"})
                          .weights(QuantizationArgs().num_bits(4).group_size(128))
                          .validated();
  CHECK(scheme.weights()->strategy() == QuantizationStrategy::Group);
  CHECK_THAT(error_of([] {
               QuantizationScheme()
                   .targets({"Linear"})
                   .weights(QuantizationArgs().strategy(QuantizationStrategy::Group))
                   .validated();
             }),
             Catch::StartsWith("QuantizationScheme.weights: QuantizationArgs.group_size"));
}

TEST_CASE("targets are required") {
  CHECK_THAT(parse_error(R"({"weights": {"num_bits": 4}})"),
             Catch::Contains("QuantizationScheme.targets: missing"));
  CHECK_THAT(parse_error(R"({"targets": "Linear"})"),
             Catch::Contains("QuantizationScheme.targets"));
}

TEST_CASE("input activations may not use channel or block strategy") {
  CHECK_THAT(
      parse_error(R"({"targets": ["Linear"], "input_activations": {"strategy": "channel"}})"),
      Catch::Contains("QuantizationScheme.input_activations.strategy") &&
          Catch::Contains("allowed: token, tensor, group, tensor_group, attn_head"));
  CHECK_THAT(parse_error(R"({"targets": ["Linear"],
                            "input_activations": {"strategy": "block", "block_structure": "2x2"}})"),
             Catch::Contains("input_activations.strategy"));
}

TEST_CASE("group dynamic input activations are accepted") {
  const auto scheme = QuantizationScheme::from_json(json::parse(
      R"({"targets": ["Linear"], "weights": {"num_bits": 4, "group_size": 128},
          "input_activations": {"strategy": "group", "group_size": 128, "dynamic": true}})"));
  CHECK(scheme.input_activations()->strategy() == QuantizationStrategy::Group);
}

TEST_CASE("token weights are rejected, static or dynamic") {
  CHECK_THAT(parse_error(R"({"targets": ["Linear"], "weights": {"strategy": "token"}})"),
             Catch::StartsWith("QuantizationScheme.weights: QuantizationArgs.dynamic") &&
                 Catch::Contains("token"));
  CHECK_THAT(parse_error(
                 R"({"targets": ["Linear"], "weights": {"strategy": "token", "dynamic": true}})"),
             Catch::Contains("QuantizationScheme.weights.strategy") &&
                 Catch::Contains("tensor, channel, group, tensor_group, block"));
}

TEST_CASE("actorder is rejected on input and output activations") {
  CHECK_THAT(parse_error(R"({"targets": ["Linear"], "input_activations": {"actorder": "weight"}})"),
             Catch::Contains("QuantizationScheme.input_activations.actorder"));
  CHECK_THAT(
      parse_error(R"({"targets": ["Linear"], "output_activations": {"actorder": "weight"}})"),
      Catch::Contains("QuantizationScheme.output_activations.actorder"));
}

TEST_CASE("format must be a compression format other than mixed-precision") {
  CHECK_THAT(parse_error(R"({"targets": ["Linear"], "format": "mixed-precision"})"),
             Catch::Contains("QuantizationScheme.format: mixed-precision"));
  CHECK_THAT(parse_error(R"({"targets": ["Linear"], "format": "int4-quantized"})"),
             Catch::Contains("unknown 'int4-quantized'") && Catch::Contains("pack-quantized"));
  const auto scheme = QuantizationScheme::from_json(
      json::parse(R"({"targets": ["Linear"], "format": "float-quantized"})"));
  CHECK(scheme.format() == "float-quantized");
}

TEST_CASE("unknown scheme keys are rejected") {
  CHECK_THAT(parse_error(R"({"targets": ["Linear"], "weight": {}})"),
             Catch::Contains("QuantizationScheme.weight: unknown key"));
}

TEST_CASE("scheme JSON round-trips and nests args JSON") {
  const auto scheme = QuantizationScheme()
                          .targets({"Linear", "re:.*q_proj"})
                          .weights(QuantizationArgs().num_bits(4).group_size(128))
                          .input_activations(QuantizationArgs().dynamic(llmc::DynamicType::Dynamic))
                          .output_activations(QuantizationArgs().symmetric(false))
                          .format("pack-quantized")
                          .validated();
  const json dumped = scheme.to_json();
  CHECK(dumped["format"] == "pack-quantized");
  CHECK(dumped["weights"] == scheme.weights()->to_json());
  CHECK(dumped["output_activations"]["zp_dtype"] == "torch.int8");
  CHECK(QuantizationScheme::from_json(dumped) == scheme);
}
