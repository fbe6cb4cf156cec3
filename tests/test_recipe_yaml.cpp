// Serialisation back to llm-compressor's stage form (LC §2.4), checked by our own parser, by
// PyYAML and by Recipe.create_instance; and every shipped recipe in recipes/ parses.
#include <cstdlib>
#include <fstream>
#include <llmc/recipe/recipe.hpp>

#include "support/catch.hpp"
#include "support/oracle.hpp"

namespace {

using Json = nlohmann::ordered_json;

const std::filesystem::path kRecipesDir =
    std::filesystem::path(LLMC_ORACLE_SCRIPTS).parent_path().parent_path() / "recipes";

llmc::ModifierSpec spec(const std::string& type, const std::string& group, const char* args) {
  llmc::ModifierSpec out;
  out.type = type;
  out.group = group;
  out.args = Json::parse(args);
  return out;
}

// A modifier's full args dump, as a resolved modifier will supply it: defaults, nulls, private
// state, and strings that only quoting keeps strings.
llmc::Recipe resolved_recipe() {
  return llmc::Recipe::from_specs(
      {spec("QuantizationModifier", "quant", R"({
         "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
             "num_bits": 4, "type": "int", "symmetric": true, "group_size": 128,
             "strategy": "group", "block_structure": null, "dynamic": false, "actorder": null,
             "observer": "imatrix_mse", "observer_kwargs": {}},
           "input_activations": null, "output_activations": null, "format": null}},
         "targets": ["Linear"], "ignore": ["lm_head", "yes", "1.5", "null", "2024-01-01", ""],
         "scheme": null, "bypass_divisibility_checks": false,
         "requires_calibration_data": false, "index": null, "group": "quant",
         "initialized_": false, "started_": false})"),
       spec("GPTQModifier", "quant", R"({"scheme": "W4A16", "targets": ["Linear"],
         "dampening_frac": 1e-05, "block_size": 64, "actorder": "static", "ignore": []})")},
      "oneshot");
}

std::vector<std::string> summary(const llmc::Recipe& recipe) {
  std::vector<std::string> out;
  for (const auto& m : recipe.modifiers()) out.push_back(m.group + "/" + m.type + m.args.dump());
  return out;
}

}  // namespace

TEST_CASE("to_dict nests stage, group and class and drops nulls, private keys and group") {
  const auto dict = resolved_recipe().to_dict();
  REQUIRE(dict.size() == 1);
  const auto& quant = dict.at("oneshot_stage").at("quant_modifiers").at("QuantizationModifier");
  CHECK_FALSE(quant.contains("scheme"));
  CHECK_FALSE(quant.contains("initialized_"));
  CHECK_FALSE(quant.contains("group"));
  CHECK(quant.contains("bypass_divisibility_checks"));
  CHECK(quant["config_groups"]["group_0"]["input_activations"].is_null());  // only top level
  CHECK(std::vector<std::string>{"config_groups", "targets", "ignore",
                                 "bypass_divisibility_checks", "requires_calibration_data"} ==
        [&] {
          std::vector<std::string> keys;
          for (const auto& [k, v] : quant.items()) keys.push_back(k);
          return keys;
        }());
}

TEST_CASE("a class repeated in one group moves to a numbered group instead of being lost") {
  const auto recipe = llmc::Recipe::from_specs(
      {spec("M", "g", "{\"a\": 1}"), spec("M", "g", "{\"a\": 2}"), spec("N", "", "{}")});
  const auto dict = recipe.to_dict();
  CHECK(dict.dump() ==
        R"({"default_stage":{"g_modifiers":{"M":{"a":1}},"g_1_modifiers":{"M":{"a":2}},)"
        R"("default_modifiers":{"N":{}}}})");
}

TEST_CASE("to_yaml writes upstream's block shape with scalar collections inline") {
  const auto yaml = llmc::Recipe::from_string(R"(
- QuantizationModifier: {targets: [Linear], scheme: W4A16, kwargs: {a: 0.01, b: 'yes'}}
)").to_yaml();
  CHECK(yaml ==
        "default_stage:\n"
        "  default_modifiers:\n"
        "    QuantizationModifier:\n"
        "      targets: [Linear]\n"
        "      scheme: W4A16\n"
        "      kwargs: {a: 0.01, b: \"yes\"}\n");
}

TEST_CASE("to_yaml output parses back to the same modifiers") {
  const auto original = resolved_recipe();
  const auto again = llmc::Recipe::from_string(original.to_yaml());
  CHECK(again.stage() == "oneshot");
  const auto expected = llmc::Recipe::from_string(original.to_dict().dump());
  CHECK(summary(again) == summary(expected));
  CHECK(again.modifiers()[0].args["ignore"] ==
        Json::parse(R"(["lm_head", "yes", "1.5", "null", "2024-01-01", ""])"));
  CHECK(again.modifiers()[1].args["dampening_frac"].get<double>() == 1e-05);
}

TEST_CASE("every recipe in recipes/ parses into modifiers") {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kRecipesDir)) {
    INFO(entry.path());
    const auto recipe = llmc::Recipe::from_file(entry.path());
    CHECK_FALSE(recipe.modifiers().empty());
    ++files;
  }
  CHECK(files >= 4);
  const auto flat = llmc::Recipe::from_file(kRecipesDir / "imatrix_w4a16.yaml");
  const auto stage = llmc::Recipe::from_file(kRecipesDir / "imatrix_w4a16_stage.yaml");
  REQUIRE(flat.modifiers().size() == 2);
  REQUIRE(stage.modifiers().size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(flat.modifiers()[i].type == stage.modifiers()[i].type);
    CHECK(flat.modifiers()[i].args.dump() == stage.modifiers()[i].args.dump());
  }
  CHECK(flat.modifiers()[1].args["config_groups"]["group_0"]["weights"]["observer"] ==
        "imatrix_mse");
  CHECK(llmc::Recipe::from_file(kRecipesDir / "imatrix_gptq_w4a16.yaml").modifiers()[1].type ==
        "GPTQModifier");
}

TEST_CASE("llm-compressor's Recipe.create_instance loads our to_yaml output to the same modifiers") {
  const auto dir = llmc::test::temp_dir("recipe-yaml");
  const std::vector<llmc::Recipe> recipes = {
      resolved_recipe(),
      llmc::Recipe::from_file(kRecipesDir / "w4a16_rtn.yaml"),
      llmc::Recipe::from_string(R"(
first_stage:
  gptq_modifiers: {GPTQModifier: {scheme: W4A16, targets: [Linear], dampening_frac: 0.05}}
second_stage:
  rtn_modifiers: {QuantizationModifier: {scheme: W8A16, targets: [Linear], ignore: [lm_head]}}
)"),
  };
  auto manifest = nlohmann::json::array();
  for (std::size_t i = 0; i < recipes.size(); ++i) {
    const auto path = dir / ("recipe_" + std::to_string(i) + ".yaml");
    std::ofstream(path) << recipes[i].to_yaml();
    const auto dict = recipes[i].to_dict();
    nlohmann::json entry = {{"yaml", path.string()},
                            {"dict", nlohmann::json::parse(dict.dump())},
                            {"stage", recipes[i].stage()}};
    // Upstream serialises every modifier under the recipe's one stage, keyed by group.
    for (const auto& [group_key, group] : dict.begin().value().items()) {
      for (const auto& [type, args] : group.items()) {
        entry["modifiers"].push_back(
            {{"type", type},
             {"group", group_key.substr(0, group_key.size() - std::string("_modifiers").size())},
             {"args", nlohmann::json::parse(args.dump())}});
      }
    }
    manifest.push_back(entry);
  }
  std::ofstream(dir / "manifest.json") << manifest.dump(1);
  const std::string command = std::string("\"") + LLMC_TEST_PYTHON + "\" \"" +
                              LLMC_ORACLE_SCRIPTS + "/_check_recipe_yaml.py\" \"" +
                              (dir / "manifest.json").string() + "\"";
  INFO(command);
  CHECK(std::system(command.c_str()) == 0);
}
