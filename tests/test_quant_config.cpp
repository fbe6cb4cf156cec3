// QuantizationConfig (LC §4.4): defaults, preset groups, JSON, requires_calibration_data.
#include "support/catch.hpp"
#include <llmc/quant/presets.hpp>
#include <llmc/quant/quantization_config.hpp>

#include "support/error_of.hpp"

using llmc::QuantizationArgs;
using llmc::QuantizationConfig;
using llmc::QuantizationScheme;
using llmc::QuantizationStatus;
using nlohmann::json;

namespace {

QuantizationConfig one_group(QuantizationScheme scheme) {
  return QuantizationConfig().config_groups({{"group_0", scheme.targets({"Linear"}).validated()}});
}

}  // namespace

TEST_CASE("config defaults: compressed-tensors method, fakequant, initialized, no ignore") {
  const auto config = QuantizationConfig::from_json(json::parse(R"({"config_groups": {}})"));
  CHECK(config.quant_method() == "compressed-tensors");
  CHECK(config.format() == "fakequant");
  CHECK(config.quantization_status() == QuantizationStatus::Initialized);
  CHECK_FALSE(config.global_compression_ratio());
  CHECK(config.ignore().empty());
  CHECK_FALSE(config.kv_cache_scheme());
}

TEST_CASE("config_groups are required") {
  CHECK_THAT(llmc::test::error_of([] { QuantizationConfig::from_json(json::object()); }),
             Catch::Contains("QuantizationConfig.config_groups: missing"));
}

TEST_CASE("a list-valued group is the preset named by the group key") {
  const auto config = QuantizationConfig::from_json(json::parse(
      R"({"config_groups": {"W4A16": ["Linear"]}, "quantization_status": "compressed"})"));
  REQUIRE(config.config_groups().size() == 1);
  CHECK(config.config_groups()[0].first == "W4A16");
  CHECK(config.config_groups()[0].second == llmc::preset_name_to_scheme("W4A16", {"Linear"}));
  CHECK(config.quantization_status() == QuantizationStatus::Compressed);
  CHECK_THAT(
      llmc::test::error_of([] {
        QuantizationConfig::from_json(json::parse(R"({"config_groups": {"g": ["Linear"]}})"));
      }),
      Catch::StartsWith("QuantizationConfig.config_groups.g: scheme: unknown preset 'g'"));
}

TEST_CASE("ordered_json input keeps the groups in file order") {
  const auto config = QuantizationConfig::from_json(nlohmann::ordered_json::parse(
      R"({"config_groups": {"W8A16": ["Linear"], "FP8": ["re:.*mlp.*"]}})"));
  REQUIRE(config.config_groups().size() == 2);
  CHECK(config.config_groups()[0].first == "W8A16");
  CHECK(config.config_groups()[1].first == "FP8");
}

TEST_CASE("checkpoint keys outside the config (version, sparsity_config) are ignored") {
  const auto config = QuantizationConfig::from_json(json::parse(
      R"({"config_groups": {}, "version": "0.19.0", "sparsity_config": {}, "ignore": null})"));
  CHECK(config.ignore().empty());
  CHECK_THAT(llmc::test::error_of([] {
               QuantizationConfig::from_json(
                   json::parse(R"({"config_groups": {}, "quantization_status": "FROZEN"})"));
             }),
             Catch::Contains("QuantizationConfig.quantization_status: unknown 'FROZEN'") &&
                 Catch::Contains("allowed: initialized, calibration, frozen"));
}

TEST_CASE("config JSON round-trips with every field") {
  auto config =
      one_group(QuantizationScheme().weights(QuantizationArgs().num_bits(4).group_size(128)));
  config.kv_cache_scheme(QuantizationArgs().type(llmc::QuantizationType::Float).validated())
      .format("pack-quantized")
      .quantization_status(QuantizationStatus::Frozen)
      .global_compression_ratio(3.5)
      .ignore({"lm_head"});
  const json dumped = config.to_json();
  CHECK(dumped["quantization_status"] == "frozen");
  CHECK(dumped["config_groups"]["group_0"]["targets"] == json::array({"Linear"}));
  CHECK(QuantizationConfig::from_json(dumped).to_json() == dumped);
}

TEST_CASE("weight-only static schemes with the default observer need no calibration data") {
  CHECK_FALSE(one_group(llmc::preset_name_to_scheme("W4A16", {})).requires_calibration_data());
  CHECK_FALSE(
      one_group(llmc::preset_name_to_scheme("FP8_DYNAMIC", {})).requires_calibration_data());
}

TEST_CASE("imatrix_mse weights need calibration data under any registry spelling") {
  for (const char* spelling : {"imatrix_mse", "IMATRIX-MSE", "Imatrix_MSE"}) {
    INFO(spelling);
    const auto weights = QuantizationArgs().num_bits(4).group_size(128).observer(spelling);
    CHECK(one_group(QuantizationScheme().weights(weights)).requires_calibration_data());
  }
  const auto mse = QuantizationArgs().num_bits(4).group_size(128).observer("mse");
  CHECK_FALSE(one_group(QuantizationScheme().weights(mse)).requires_calibration_data());
}

TEST_CASE("static or local inputs, static outputs and a kv cache scheme need calibration data") {
  CHECK(one_group(llmc::preset_name_to_scheme("FP8", {})).requires_calibration_data());
  CHECK(one_group(llmc::preset_name_to_scheme("NVFP4", {})).requires_calibration_data());
  CHECK(one_group(QuantizationScheme().output_activations(QuantizationArgs()))
            .requires_calibration_data());
  const auto dynamic_output = QuantizationArgs().dynamic(llmc::DynamicType::Dynamic);
  CHECK_FALSE(one_group(QuantizationScheme().output_activations(dynamic_output))
                  .requires_calibration_data());
  auto with_kv = one_group(llmc::preset_name_to_scheme("W4A16", {}));
  with_kv.kv_cache_scheme(QuantizationArgs().validated());
  CHECK(with_kv.requires_calibration_data());
}
