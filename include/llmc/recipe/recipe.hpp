// Recipe: a YAML/JSON recipe parsed into one ordered list of ModifierSpecs (LC §2), and written
// back in llm-compressor's stage form so the recipe saved next to a checkpoint loads upstream.
//
//   auto recipe = llmc::Recipe::from_file("recipes/imatrix_w4a16.yaml");
//   for (const auto& spec : recipe.modifiers()) registry.create(spec);  // spec.fail(key, msg)
//   std::string yaml = recipe.to_yaml();
//
// Two input shapes are accepted:
// - upstream's stage form (LC §2.2): `<name>_stage:` → `<group>_modifiers:` → `Class: {kwargs}`,
//   optional top-level `args:`. Every modifier of every stage lands in one list, in file order;
//   stage() is the last stage's name. Keys upstream ignores are ignored here too, except that a
//   stage or a recipe yielding no modifiers at all is an error (upstream yields an empty recipe).
// - the flat form upstream's docs show but never parsed (LC §11.2): a top-level list, or a
//   top-level `recipe:` key (beside an optional `args:`) holding a list of single-key maps
//   `- IMatrixGatherer: {ignore: [lm_head]}`. Such modifiers get stage and group "default", as
//   upstream's Recipe.from_modifiers gives a list of Modifier instances.
#pragma once

#include <filesystem>
#include <llmc/recipe/modifier_spec.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace llmc {

class Recipe {
 public:
  // By extension, as upstream (LC §2.1): .json → JSON, .yaml/.yml → YAML, .md → the YAML front
  // matter between ---/+++ delimiters, anything else → JSON, then YAML. `target_stage` keeps
  // only the top-level keys that start with it (upstream's filter_dict, which also drops
  // `args:`); a flat recipe is the single stage "default". Errors are llmc::Error with
  // "file:line:column".
  static Recipe from_file(const std::filesystem::path& path, const std::string& target_stage = "");
  // Text as JSON, then YAML; locations read "<string>:line:column".
  static Recipe from_string(const std::string& text, const std::string& target_stage = "");
  // Modifiers built in code (or resolved modifiers dumping their full args), as upstream's
  // Recipe.from_modifiers: one stage named `stage`.
  static Recipe from_specs(std::vector<ModifierSpec> modifiers, std::string stage = "default");

  // The recipe's `args:` mapping: stored, never substituted into anything (LC §11.16).
  const nlohmann::ordered_json& args() const { return args_; }
  // Name of the last stage (without "_stage"); "default" when there is none.
  const std::string& stage() const { return stage_; }
  const std::vector<ModifierSpec>& modifiers() const { return modifiers_; }

  // Upstream's get_yaml_serializable_dict (LC §2.4): {"<stage>_stage": {"<group>_modifiers":
  // {"Class": args}}} with every modifier under stage(), args without null values, without keys
  // ending in "_" and without "group". A class appearing twice in one group (which a mapping
  // cannot hold; upstream silently keeps the last) goes to "<group>_1_modifiers", ... instead.
  nlohmann::ordered_json to_dict() const;
  // to_dict() as block YAML in upstream's shape (yaml.dump with sort_keys=False and
  // default_flow_style=None: collections of scalars inline, everything else block).
  std::string to_yaml() const;

 private:
  friend class RecipeBuilder;
  nlohmann::ordered_json args_ = nlohmann::ordered_json::object();
  std::string stage_ = "default";
  std::vector<ModifierSpec> modifiers_;
};

}  // namespace llmc
