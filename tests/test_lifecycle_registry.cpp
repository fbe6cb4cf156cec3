// Modifier registry (exact class names, LC §2.3), ModifierKwargs (extra="forbid", typed reads)
// and args_json (LC §2.4).
#include <llmc/core/modifier_kwargs.hpp>
#include <llmc/core/modifier_registry.hpp>

#include "support/catch.hpp"
#include "support/error_of.hpp"
#include "test_lifecycle_recorder.hpp"

using llmc::ModifierKwargs;
using llmc::ModifierSpec;
using llmc::test::error_of;

namespace {

ModifierSpec spec_of(const std::string& type, nlohmann::ordered_json args) {
  ModifierSpec spec;
  spec.type = type;
  spec.stage = "default";
  spec.group = "default";
  spec.args = std::move(args);
  spec.location = {"recipe.yaml", 3, 5};
  return spec;
}

// Registers a recording modifier under `name` once per process (the registry is global).
void ensure_registered(const std::string& name) {
  if (llmc::modifier_registry().contains(name)) return;
  llmc::register_modifier(name, [](const ModifierSpec& spec) {
    ModifierKwargs kwargs(spec, {"targets"});
    auto modifier = std::make_unique<llmc::test::RecordingModifier>(
        "r", std::make_shared<llmc::test::EventLog>());
    kwargs.apply_common(*modifier);
    return modifier;
  });
}

}  // namespace

TEST_CASE("create_modifier builds a registered class from its exact name") {
  ensure_registered("TestRecordingModifier");
  auto modifier = llmc::create_modifier(spec_of("TestRecordingModifier", {{"start", 1}}));
  REQUIRE(modifier);
  CHECK(modifier->start == 1.0);
  CHECK(modifier->group == "default");
}

TEST_CASE("create_modifier rejects a differently spelt class name, naming the right one") {
  ensure_registered("TestRecordingModifier");
  CHECK_THAT(error_of([] { llmc::create_modifier(spec_of("testrecordingmodifier", {})); }),
             Catch::Equals("recipe.yaml:3:5: testrecordingmodifier: No modifier of type "
                           "'testrecordingmodifier' found; did you mean "
                           "'TestRecordingModifier'?"));
}

TEST_CASE("create_modifier rejects an unknown class, listing the known ones") {
  ensure_registered("TestRecordingModifier");
  CHECK_THAT(error_of([] { llmc::create_modifier(spec_of("NoSuchModifier", {})); }),
             Catch::Contains("No modifier of type 'NoSuchModifier' found (known: ") &&
                 Catch::Contains("TestRecordingModifier"));
}

TEST_CASE("ModifierKwargs rejects unknown keys, naming the allowed ones and the key's line") {
  auto spec = spec_of("X", {{"targets", "Linear"}, {"tragets", "Linear"}});
  spec.arg_locations["tragets"] = {"recipe.yaml", 5, 7};
  CHECK_THAT(error_of([&] {
               ModifierKwargs(spec, {"targets", "ignore"});
             }),
             Catch::Equals("recipe.yaml:5:7: X.tragets: unknown argument (allowed: targets, "
                           "ignore, requires_calibration_data, index, group, start, end, "
                           "update)"));
}

TEST_CASE("ModifierKwargs rejects values of the wrong type") {
  const auto spec = spec_of("X", {{"targets", 3}, {"start", "soon"}, {"index", 1.5}});
  ModifierKwargs kwargs(spec, {"targets"});
  CHECK_THAT(error_of([&] { kwargs.strings("targets"); }),
             Catch::Contains("X.targets: expected a string or a list of strings, got 3"));
  CHECK_THAT(error_of([&] { kwargs.number("start"); }),
             Catch::Contains("X.start: expected a number, got \"soon\""));
  CHECK_THAT(error_of([&] { kwargs.integer("index"); }),
             Catch::Contains("X.index: expected an integer, got 1.5"));
}

TEST_CASE("ModifierKwargs reads a single string as a one-element list and null as absent") {
  const auto spec = spec_of("X", {{"targets", "Linear"}, {"ignore", nullptr}, {"index", 2.0}});
  ModifierKwargs kwargs(spec, {"targets", "ignore"});
  CHECK(kwargs.strings("targets") == std::vector<std::string>{"Linear"});
  CHECK_FALSE(kwargs.strings("ignore").has_value());
  CHECK(kwargs.integer("index") == 2);
}

TEST_CASE("args_json emits the common fields that are set, in model_dump order, without group") {
  auto log = std::make_shared<llmc::test::EventLog>();
  llmc::test::RecordingModifier modifier("r", log, /*needs_data=*/true);
  CHECK(modifier.args_json().dump() == R"({"requires_calibration_data":true})");
  modifier.group = "g";
  modifier.index = 0;
  modifier.end = 4.0;
  CHECK(modifier.args_json().dump() == R"({"requires_calibration_data":true,"index":0,"end":4.0})");
}

TEST_CASE("requires_calibration_data set in the recipe is honoured, as the upstream field") {
  ensure_registered("TestRecordingModifier");
  auto plain = llmc::create_modifier(spec_of("TestRecordingModifier", {}));
  auto forced = llmc::create_modifier(
      spec_of("TestRecordingModifier", {{"requires_calibration_data", true}}));
  CHECK_FALSE(plain->requires_calibration_data());
  CHECK(forced->requires_calibration_data());
}
