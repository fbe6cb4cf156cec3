// Args, schemes, presets and configs against compressed-tensors itself
// (tests/oracle/quant_args.py): same JSON, same accept/reject verdicts.

// oracle.hpp pulls in ATen, whose c10/util/Logging.h defines a CHECK of its own that silently
// passes or aborts: it must come before Catch so that Catch's CHECK is the one in force.
// clang-format off
#include "support/oracle.hpp"
#include "support/catch.hpp"
// clang-format on

#include <llmc/quant/presets.hpp>
#include <llmc/quant/quantization_config.hpp>

#include "support/error_of.hpp"

using llmc::QuantizationArgs;
using llmc::QuantizationConfig;
using llmc::QuantizationScheme;
using nlohmann::json;

namespace {

std::vector<json> cases_of(const std::string& kind) {
  std::vector<json> out;
  for (const auto& c : llmc::test::Oracle::get("quant_args").cases()) {
    if (c["kind"] == kind) out.push_back(c);
  }
  REQUIRE_FALSE(out.empty());
  return out;
}

// We store "static" as ActivationOrdering::Weight and write its canonical name "weight";
// upstream echoes the alias it was given (the two compare equal there).
json canonical_actorder(json dump) {
  if (dump["actorder"] == "static") dump["actorder"] = "weight";
  return dump;
}

void build(const std::string& what, const json& input) {
  if (what == "args") QuantizationArgs::from_json(input);
  if (what == "scheme") QuantizationScheme::from_json(input);
  if (what == "config") QuantizationConfig::from_json(input);
}

}  // namespace

TEST_CASE("preset names and order equal compressed-tensors' PRESET_SCHEMES") {
  std::vector<std::string> expected;
  for (const auto& c : cases_of("preset")) expected.push_back(c["name"]);
  REQUIRE(expected.size() >= 30);
  CHECK(llmc::preset_scheme_names() == expected);
}

TEST_CASE("every preset serialises exactly like compressed-tensors' preset_name_to_scheme") {
  for (const auto& c : cases_of("preset")) {
    const std::string name = c["name"];
    INFO(name);
    const auto scheme = llmc::preset_name_to_scheme(name, {"Linear"});
    CHECK(scheme.to_json() == c["scheme"]);
    // Symmetric zp_dtype is not serialised (MX presets set uint8, a reload infers fp8), so the
    // round trip is checked on the JSON, as upstream's own reload would differ the same way.
    CHECK(QuantizationScheme::from_json(c["scheme"]).to_json() == c["scheme"]);
  }
}

TEST_CASE("args JSON equals compressed-tensors' model_dump for the same input") {
  for (const auto& c : cases_of("args")) {
    INFO(c["id"] << " " << c["input"].dump());
    const auto args = QuantizationArgs::from_json(c["input"]);
    CHECK(args.to_json() == canonical_actorder(c["dump"]));
    CHECK(llmc::torch_dtype_name(*args.zp_dtype()) == c["zp_dtype"]);
    // Upstream's range is a float32 tensor (2^31 - 1 rounds to 2^31 there).
    CHECK(static_cast<float>(args.q_min()) == c["q_min"].get<float>());
    CHECK(static_cast<float>(args.q_max()) == c["q_max"].get<float>());
  }
}

TEST_CASE("args parsed from compressed-tensors' JSON equal the args it was dumped from") {
  for (const auto& c : cases_of("args")) {
    INFO(c["id"] << " " << c["dump"].dump());
    const auto args = QuantizationArgs::from_json(c["input"]);
    const auto reloaded = QuantizationArgs::from_json(c["dump"]);
    CHECK(reloaded.to_json() == args.to_json());
    const bool explicit_zp = !c["input"].value("zp_dtype", json()).is_null();
    if (!args.symmetric() || !explicit_zp) CHECK(reloaded == args);
  }
}

TEST_CASE("llmc throws exactly when compressed-tensors rejects an args, scheme or config") {
  for (const auto& c : cases_of("verdict")) {
    INFO(c["id"] << " " << c["input"].dump() << " upstream: " << c["error"]);
    const std::string error = llmc::test::error_of([&] { build(c["what"], c["input"]); });
    if (c["raises"].get<bool>()) {
      CHECK(error != "<no error>");
      CHECK(error.find("<other exception") == std::string::npos);
    } else {
      CHECK(error == "<no error>");
    }
  }
}

TEST_CASE("num_bits outside int 1..32 / float 4,8 is rejected though upstream accepts it") {
  for (const auto& c : cases_of("stricter")) {
    INFO(c["input"].dump());
    CHECK_FALSE(c["raises"].get<bool>());
    CHECK_THAT(llmc::test::error_of([&] { QuantizationArgs::from_json(c["input"]); }),
               Catch::Contains("QuantizationArgs.num_bits"));
  }
}

TEST_CASE("token-strategy weights are rejected though upstream accepts dynamic ones") {
  REQUIRE_FALSE(cases_of("stricter_scheme").empty());
  for (const auto& c : cases_of("stricter_scheme")) {
    INFO(c["input"].dump());
    CHECK_FALSE(c["raises"].get<bool>());
    CHECK_THAT(llmc::test::error_of([&] { QuantizationScheme::from_json(c["input"]); }),
               Catch::Contains("QuantizationScheme.weights.strategy") &&
                   Catch::Contains("tensor, channel, group, tensor_group, block"));
  }
}

TEST_CASE("scheme JSON equals compressed-tensors' model_dump for the same input") {
  for (const auto& c : cases_of("scheme")) {
    INFO(c["id"] << " " << c["input"].dump());
    const auto scheme = QuantizationScheme::from_json(c["input"]);
    CHECK(scheme.to_json() == c["dump"]);
    CHECK(QuantizationScheme::from_json(c["dump"]) == scheme);
  }
}

TEST_CASE("config JSON and requires_calibration_data equal compressed-tensors'") {
  for (const auto& c : cases_of("config")) {
    INFO(c["id"] << " " << c["input"].dump());
    const auto config = QuantizationConfig::from_json(c["input"]);
    CHECK(config.to_json() == c["dump"]);
    CHECK(config.requires_calibration_data() == c["requires_calibration_data"].get<bool>());
    CHECK(QuantizationConfig::from_json(c["dump"]).to_json() == c["dump"]);
  }
}
