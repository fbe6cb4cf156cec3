// Recipe errors name file:line:column, the modifier and the key, and what is allowed; where
// upstream silently yields an empty recipe we stop (LC §2.2).
#include <fstream>
#include <llmc/recipe/recipe.hpp>

#include "support/catch.hpp"
#include "support/error_of.hpp"
#include "support/oracle.hpp"

namespace {

using Catch::Matchers::Contains;

std::string error_of_file(const std::string& name, const std::string& text) {
  // A directory per file: temp_dir empties a directory whose tag it has seen before.
  const auto path = llmc::test::temp_dir("recipe-errors-" + name) / name;
  std::ofstream(path) << text;
  return llmc::test::error_of([&] { llmc::Recipe::from_file(path); });
}

std::string error_of_text(const std::string& text) {
  return llmc::test::error_of([&] { llmc::Recipe::from_string(text); });
}

}  // namespace

TEST_CASE("malformed YAML reports yaml-cpp's line and column") {
  const auto message = error_of_file("bad.yaml", "q_stage:\n  q_modifiers:\n    A: [1, 2\n");
  CHECK_THAT(message, Contains("bad.yaml:4:1: malformed YAML"));
  CHECK_THAT(error_of_text("a: b: c"), Contains("<string>:1:5: malformed YAML"));
}

TEST_CASE("malformed JSON in a .json file reports the line and column of the bad character") {
  const auto message = error_of_file("bad.json", "{\n  \"q_stage\": {\n    \"x\": [1,, 2]\n}");
  CHECK_THAT(message, Contains("bad.json:3:13: malformed JSON"));
}

TEST_CASE("a flat entry that is not a single-key map names the keys and the fix") {
  const auto message = error_of_file("flat.yaml", R"(recipe:
  - QuantizationModifier:
    scheme: W4A16
)");
  CHECK_THAT(message, Contains("flat.yaml:2:5: a recipe entry must be a single-key mapping"));
  CHECK_THAT(message, Contains("2 keys ('QuantizationModifier', 'scheme')"));
  CHECK_THAT(error_of_text("- QuantizationModifier\n"),
             Contains("<string>:1:3: a recipe entry must be a single-key mapping "
                      "`- ModifierClass: {kwargs}`, got the string 'QuantizationModifier'"));
}

TEST_CASE("kwargs that are not a mapping name the modifier and what to write") {
  CHECK_THAT(error_of_text("q_stage:\n  q_modifiers:\n    GPTQModifier: [a]\n"),
             Contains("<string>:3:5: GPTQModifier: keyword arguments must be a mapping"));
  CHECK_THAT(error_of_text("- GPTQModifier:\n"),
             Contains("<string>:1:3: GPTQModifier: keyword arguments must be a mapping "
                      "(`GPTQModifier: {key: value, ...}`, or `{}` for none), got null"));
}

TEST_CASE("a group kwarg that is not a string is rejected at its key") {
  CHECK_THAT(error_of_text("- GPTQModifier:\n    group: [a]\n"),
             Contains("<string>:2:5: GPTQModifier.group: must be a string, got a list"));
}

TEST_CASE("a stage that yields no modifiers says which keys were ignored and why") {
  const auto message = error_of_file("stage.yaml", R"(
good_stage:
  q_modifiers: {QuantizationModifier: {}}
quant_stage:
  quant_mods:
    GPTQModifier: {}
)");
  CHECK_THAT(message, Contains("stage.yaml:4:1: stage 'quant_stage' holds no modifiers "
                               "(ignored: 'quant_mods'; a group key ends in '_modifiers'"));
  CHECK_THAT(error_of_text("q_stage: [GPTQModifier]"),
             Contains("<string>:1:1: stage 'q_stage' must be a mapping of '<group>_modifiers' "
                      "keys, got a list"));
}

TEST_CASE("a recipe that yields no modifiers is an error, not an empty recipe") {
  CHECK_THAT(error_of_text("version: 1\nquant:\n  GPTQModifier: {}\n"),
             Contains("<string>:1:1: the recipe holds no modifiers: expected '<name>_stage' keys"));
  CHECK_THAT(error_of_text("version: 1\nquant:\n  GPTQModifier: {}\n"),
             Contains("(ignored: 'version', 'quant')"));
  CHECK_THAT(error_of_text("recipe: []"), Contains("<string>:1:9: the recipe's modifier list is empty"));
  CHECK_THAT(error_of_file("empty.yaml", "# nothing\n"), Contains("empty.yaml:1:1: a recipe is"));
  CHECK_THAT(llmc::test::error_of([] {
               llmc::Recipe::from_string("a_stage: {x_modifiers: {M: {}}}", "b");
             }),
             Contains("no top-level key starts with target_stage 'b' (keys: 'a_stage')"));
  CHECK_THAT(llmc::test::error_of([] { llmc::Recipe::from_string("- M: {}", "quant"); }),
             Contains("target_stage 'quant' matches no stage (a flat recipe is the single stage "
                      "'default')"));
}

TEST_CASE("unknown top-level keys in a flat recipe are errors naming the allowed ones") {
  CHECK_THAT(error_of_text("recipe:\n  - M: {}\nstage: x\n"),
             Contains("<string>:3:1: unknown top-level key 'stage' in a flat recipe (allowed: "
                      "'recipe', 'args'"));
  CHECK_THAT(error_of_text("recipe: {M: {}}"),
             Contains("<string>:1:1: 'recipe' must be a list of `- ModifierClass: {kwargs}` "
                      "entries, got a mapping"));
}

TEST_CASE("a repeated key is an error naming both places") {
  const auto message = error_of_text(R"(q_stage:
  q_modifiers:
    GPTQModifier: {scheme: W4A16}
    GPTQModifier: {scheme: W8A16}
)");
  CHECK_THAT(message, Contains("<string>:4:5: duplicate key 'GPTQModifier' (first at <string>:3:5)"));
  CHECK_THAT(error_of_file("dup.json", R"({"a_stage": {"x_modifiers": {"M": {"k": 1, "k": 2}}}})"),
             Contains("dup.json:1:44: duplicate key 'k' (first at "));
}

TEST_CASE("ModifierSpec::fail points at the kwarg's line, or the modifier's without a key") {
  const auto recipe = llmc::Recipe::from_string(R"(
recipe:
  - QuantizationModifier:
      targets: [Linear]
      scheme: W5A16
)");
  const auto& spec = recipe.modifiers()[0];
  CHECK(llmc::test::error_of([&] { spec.fail("scheme", "unknown preset 'W5A16'"); }) ==
        "<string>:5:7: QuantizationModifier.scheme: unknown preset 'W5A16'");
  CHECK(llmc::test::error_of([&] { spec.fail("", "unknown modifier"); }) ==
        "<string>:3:5: QuantizationModifier: unknown modifier");
  CHECK(llmc::test::error_of([&] { spec.fail("bogus", "unknown key"); }) ==
        "<string>:3:5: QuantizationModifier.bogus: unknown key");
}

TEST_CASE("a .md file without front matter and a missing file are errors naming the file") {
  CHECK_THAT(error_of_file("card.md", "# title\nno front matter\n"),
             Contains("card.md: could not extract YAML front matter"));
  CHECK_THAT(llmc::test::error_of([] { llmc::Recipe::from_file("/nonexistent/r.yaml"); }),
             Contains("/nonexistent/r.yaml: cannot open recipe file"));
}

TEST_CASE("unsupported YAML tags are rejected as yaml.safe_load rejects them") {
  CHECK_THAT(error_of_text("- M: {a: !!python/object foo}"),
             Contains("<string>:1:10: unsupported YAML tag"));
}
