// Preset schemes (LC §4.3): lookup rules and the definitions people rely on most.
#include "support/catch.hpp"
#include <llmc/quant/presets.hpp>

#include "support/error_of.hpp"

using llmc::preset_name_to_scheme;
using llmc::QuantizationStrategy;
using llmc::QuantizationType;

TEST_CASE("preset lookup ignores case and sets the targets") {
  const auto scheme = preset_name_to_scheme("w4a16", {"Linear", "re:.*mlp"});
  CHECK(scheme == preset_name_to_scheme("W4A16", {"Linear", "re:.*mlp"}));
  CHECK(scheme.targets() == std::vector<std::string>{"Linear", "re:.*mlp"});
  CHECK(llmc::is_preset_scheme("fp8_dynamic"));
  CHECK_FALSE(llmc::is_preset_scheme("W5A4"));
}

TEST_CASE("an unknown preset is an error listing the known presets") {
  CHECK_THAT(llmc::test::error_of([] { preset_name_to_scheme("W5A4", {"Linear"}); }),
             Catch::StartsWith("scheme: unknown preset 'W5A4' (allowed: UNQUANTIZED, W4A16_ASYM") &&
                 Catch::Contains("W8A16)"));
}

TEST_CASE("W8A16 is int8 group-128 weights only, W8A8 channel weights with dynamic token inputs") {
  const auto w8a16 = preset_name_to_scheme("W8A16", {"Linear"});
  CHECK(w8a16.weights()->strategy() == QuantizationStrategy::Group);
  CHECK(w8a16.weights()->group_size() == 128);
  CHECK_FALSE(w8a16.input_activations());
  const auto w8a8 = preset_name_to_scheme("INT8", {"Linear"});
  CHECK(w8a8 == preset_name_to_scheme("W8A8", {"Linear"}));
  CHECK(w8a8.weights()->strategy() == QuantizationStrategy::Channel);
  CHECK(w8a8.input_activations()->strategy() == QuantizationStrategy::Token);
  CHECK(w8a8.input_activations()->dynamic() == llmc::DynamicType::Dynamic);
}

TEST_CASE("integer WxAy presets exist exactly for 2..8-bit weights no wider than activations") {
  for (int w = 1; w <= 9; ++w) {
    for (int a : {4, 8, 16}) {
      const std::string name = "W" + std::to_string(w) + "A" + std::to_string(a);
      const bool expected = w >= 2 && w <= 8 && w <= a;
      INFO(name);
      // W8A8 exists but is the channel-weight special case, checked above.
      if (name == "W8A8") continue;
      CHECK(llmc::is_preset_scheme(name) == expected);
      if (expected) CHECK(preset_name_to_scheme(name, {"Linear"}).weights()->num_bits() == w);
    }
  }
}

TEST_CASE("NVFP4 has fp4 tensor_group-16 weights and local dynamic inputs with fp8 scales") {
  const auto nvfp4 = preset_name_to_scheme("NVFP4", {"Linear"});
  const auto& inputs = *nvfp4.input_activations();
  CHECK(nvfp4.weights()->is_fp4());
  CHECK(nvfp4.weights()->strategy() == QuantizationStrategy::TensorGroup);
  CHECK(nvfp4.weights()->group_size() == 16);
  CHECK(inputs.dynamic() == llmc::DynamicType::Local);
  CHECK(inputs.observer() == "static_minmax");
  CHECK(inputs.scale_dtype() == c10::ScalarType::Float8_e4m3fn);
}

TEST_CASE("MX presets are recognised as MX by their args") {
  for (const char* name : {"MXFP4A16", "MXFP4", "MXFP8A16", "MXFP8"}) {
    INFO(name);
    const auto scheme = preset_name_to_scheme(name, {"Linear"});
    CHECK(scheme.weights()->is_mx());
    CHECK(scheme.weights()->type() == QuantizationType::Float);
  }
}

TEST_CASE("UNQUANTIZED has no args") {
  const auto scheme = preset_name_to_scheme("unquantized", {"Linear"});
  CHECK_FALSE(scheme.weights());
  CHECK_FALSE(scheme.input_activations());
}
