// Recipe parsing: the stage form (LC §2.2), the flat form (LC §11.2), target_stage, args, the
// file kinds upstream accepts (LC §2.1) and YAML's scalar rules.
#include <cmath>
#include <fstream>
#include <llmc/recipe/recipe.hpp>

#include "support/catch.hpp"
#include "support/oracle.hpp"

namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kFlat = R"(
recipe:
  - IMatrixGatherer:
      ignore: [lm_head]
  - QuantizationModifier:
      targets: [Linear]
      scheme: W4A16
)";

constexpr const char* kStage = R"(
default_stage:
  default_modifiers:
    IMatrixGatherer:
      ignore: [lm_head]
    QuantizationModifier:
      targets: [Linear]
      scheme: W4A16
)";

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  // A directory per file: temp_dir empties a directory whose tag it has seen before.
  const auto path = llmc::test::temp_dir("recipe-parse-" + name) / name;
  std::ofstream(path) << text;
  return path;
}

void check_same_specs(const llmc::Recipe& a, const llmc::Recipe& b) {
  REQUIRE(a.modifiers().size() == b.modifiers().size());
  for (std::size_t i = 0; i < a.modifiers().size(); ++i) {
    const auto& x = a.modifiers()[i];
    const auto& y = b.modifiers()[i];
    INFO("modifier " << i);
    CHECK(x.type == y.type);
    CHECK(x.stage == y.stage);
    CHECK(x.group == y.group);
    CHECK(x.args == y.args);
    CHECK(x.args.dump() == y.args.dump());  // key order too
  }
}

}  // namespace

TEST_CASE("flat list, recipe: key and stage form give identical modifier specs") {
  const auto keyed = llmc::Recipe::from_string(kFlat);
  const auto stage = llmc::Recipe::from_string(kStage);
  const auto bare = llmc::Recipe::from_string(R"(
- IMatrixGatherer: {ignore: [lm_head]}
- QuantizationModifier: {targets: [Linear], scheme: W4A16}
)");
  check_same_specs(keyed, stage);
  check_same_specs(bare, stage);
  CHECK(keyed.stage() == "default");
  CHECK(keyed.modifiers()[0].type == "IMatrixGatherer");
  CHECK(keyed.modifiers()[1].args == Json::parse(R"({"targets":["Linear"],"scheme":"W4A16"})"));
}

TEST_CASE("flat recipes are stage 'default', group 'default' unless a group kwarg names it") {
  const auto recipe = llmc::Recipe::from_string(R"(
recipe:
  - QuantizationModifier: {scheme: W4A16}
  - GPTQModifier: {scheme: W4A16, group: mine}
)");
  CHECK(recipe.modifiers()[0].stage == "default");
  CHECK(recipe.modifiers()[0].group == "default");
  CHECK(recipe.modifiers()[1].group == "mine");
  CHECK_FALSE(recipe.modifiers()[1].args.contains("group"));
  CHECK(recipe.modifiers()[1].arg_locations.count("group") == 1);
}

TEST_CASE("stage form flattens stages and groups in file order; stage() is the last stage") {
  const auto recipe = llmc::Recipe::from_string(R"(
one_stage:
  b_modifiers:
    GPTQModifier: {scheme: W4A16}
    QuantizationModifier: {scheme: W8A16}
  a_modifiers:
    IMatrixGatherer: {}
two_stage:
  c_modifiers:
    QuantizationModifier: {scheme: FP8, group: explicit}
)");
  std::vector<std::string> seen;
  for (const auto& m : recipe.modifiers()) seen.push_back(m.stage + "/" + m.group + "/" + m.type);
  CHECK(seen == std::vector<std::string>{"one/b/GPTQModifier", "one/b/QuantizationModifier",
                                         "one/a/IMatrixGatherer", "two/explicit/QuantizationModifier"});
  CHECK(recipe.stage() == "two");
}

TEST_CASE("keys the stage form does not know are ignored as upstream does") {
  const auto recipe = llmc::Recipe::from_string(R"(
version: 2
metadata: {author: me}
quant_stage:
  notes: free text
  listed_modifiers: [not, a, mapping]
  quant_modifiers:
    QuantizationModifier: {scheme: W4A16}
)");
  REQUIRE(recipe.modifiers().size() == 1);
  CHECK(recipe.modifiers()[0].group == "quant");
}

TEST_CASE("target_stage keeps the top-level keys that start with it, args included") {
  constexpr const char* text = R"(
args: {a: 1}
first_stage:
  x_modifiers: {GPTQModifier: {scheme: W4A16}}
second_stage:
  y_modifiers: {QuantizationModifier: {scheme: W8A16}}
)";
  const auto second = llmc::Recipe::from_string(text, "second");
  REQUIRE(second.modifiers().size() == 1);
  CHECK(second.modifiers()[0].type == "QuantizationModifier");
  CHECK(second.stage() == "second");
  CHECK(second.args().empty());
  const auto first = llmc::Recipe::from_string(text, "first_stage");
  REQUIRE(first.modifiers().size() == 1);
  CHECK(first.modifiers()[0].type == "GPTQModifier");
  CHECK(llmc::Recipe::from_string(text).modifiers().size() == 2);
  CHECK(llmc::Recipe::from_string(kFlat, "default").modifiers().size() == 2);
}

TEST_CASE("recipe args are stored as written") {
  const auto stage = llmc::Recipe::from_string(
      "args: {damp: 0.1, names: [a, b]}\nq_stage: {q_modifiers: {QuantizationModifier: {}}}");
  CHECK(stage.args() == Json::parse(R"({"damp":0.1,"names":["a","b"]})"));
  const auto flat = llmc::Recipe::from_string("args: {x: 1}\nrecipe: [QuantizationModifier: {}]");
  CHECK(flat.args() == Json::parse(R"({"x":1})"));
  CHECK(llmc::Recipe::from_string(kFlat).args().empty());
}

TEST_CASE("locations point at each modifier and each top-level kwarg") {
  const auto recipe = llmc::Recipe::from_file(write_file("loc.yaml", kFlat));
  const auto& quant = recipe.modifiers()[1];
  CHECK(quant.location.line == 5);
  CHECK(quant.location.column == 5);
  CHECK(quant.location.file.ends_with("loc.yaml"));
  CHECK(quant.arg_locations.at("targets").line == 6);
  CHECK(quant.arg_locations.at("targets").column == 7);
  CHECK(quant.arg_locations.at("scheme").line == 7);
}

TEST_CASE("JSON recipes parse with the same specs and exact locations") {
  const std::string json = R"({
  "default_stage": {
    "default_modifiers": {
      "IMatrixGatherer": {"ignore": ["lm_head"]},
      "QuantizationModifier": {"targets": ["Linear"], "scheme": "W4A16"}
    }
  }
})";
  const auto from_json = llmc::Recipe::from_file(write_file("r.json", json));
  check_same_specs(from_json, llmc::Recipe::from_string(kStage));
  const auto& quant = from_json.modifiers()[1];
  CHECK(quant.location.line == 5);
  CHECK(quant.location.column == 7);
  CHECK(quant.arg_locations.at("scheme").line == 5);
  CHECK(quant.arg_locations.at("scheme").column == 55);
  check_same_specs(llmc::Recipe::from_string(json), from_json);
  check_same_specs(llmc::Recipe::from_file(write_file("r.recipe", json)), from_json);
}

TEST_CASE("a .md recipe card is read from its front matter, with file line numbers") {
  const auto path = write_file("card.md", std::string("# My recipe\n\nSome text.\n---\n") +
                                              (kStage + 1) + "---\n\nMore *markdown*.\n");
  const auto recipe = llmc::Recipe::from_file(path);
  check_same_specs(recipe, llmc::Recipe::from_string(kStage));
  CHECK(recipe.modifiers()[0].location.line == 7);  // "    IMatrixGatherer:" in the card
}

TEST_CASE("YAML anchors, aliases and merge keys resolve as yaml.safe_load does") {
  const auto recipe = llmc::Recipe::from_string(R"(
defaults: &w4 {num_bits: 4, type: int, symmetric: true}
q_stage:
  q_modifiers:
    QuantizationModifier:
      config_groups:
        g: {targets: [Linear], weights: {<<: *w4, symmetric: false, group_size: 128}}
      ignore: &ign [lm_head]
    GPTQModifier: {scheme: W4A16, ignore: *ign}
)");
  CHECK(recipe.modifiers()[0].args["config_groups"]["g"]["weights"].dump() ==
        R"({"num_bits":4,"type":"int","symmetric":false,"group_size":128})");
  CHECK(recipe.modifiers()[1].args["ignore"] == Json::parse(R"(["lm_head"])"));
}

TEST_CASE("YAML scalars beyond PyYAML's float rule: exponents without a dot, infinities") {
  const auto recipe = llmc::Recipe::from_string(
      "- M: {a: 1e-2, b: -.inf, c: .NaN, d: 1.0e+3, e: '1e-2', f: 12:30, g: 2024-01-01}");
  const auto& args = recipe.modifiers()[0].args;
  CHECK(args["a"].is_number_float());
  CHECK(args["a"].get<double>() == 0.01);
  CHECK(std::isinf(args["b"].get<double>()));
  CHECK(args["b"].get<double>() < 0);
  CHECK(std::isnan(args["c"].get<double>()));
  CHECK(args["d"].get<double>() == 1000.0);
  CHECK(args["e"] == "1e-2");
  CHECK(args["f"] == "12:30");  // PyYAML: the sexagesimal int 750; rare enough to leave
  CHECK(args["g"] == "2024-01-01");
}

TEST_CASE("stage-form recipes parse as llm-compressor's Recipe.create_instance reads them") {
  const auto& oracle = llmc::test::Oracle::get("recipe");
  for (const auto& c : oracle.cases()) {
    INFO("case " << c["id"].get<std::string>());
    const auto recipe =
        llmc::Recipe::from_string(c["text"].get<std::string>(), c["target_stage"].get<std::string>());
    if (c.contains("stage")) CHECK(recipe.stage() == c["stage"].get<std::string>());
    CHECK(nlohmann::json::parse(recipe.args().dump()) == c["args"]);
    const auto& expected = c["modifiers"];
    REQUIRE(recipe.modifiers().size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const auto& spec = recipe.modifiers()[i];
      INFO("modifier " << i << " " << spec.type << " " << spec.args.dump());
      CHECK(spec.type == expected[i]["type"].get<std::string>());
      CHECK(spec.group == expected[i]["group"].get<std::string>());
      // What pydantic made of the kwargs where upstream instantiates; else PyYAML's reading.
      const auto& want = expected[i].contains("args_upstream") ? expected[i]["args_upstream"]
                                                               : expected[i]["args_raw"];
      CHECK(nlohmann::json::parse(spec.args.dump()) == want);
    }
  }
}
