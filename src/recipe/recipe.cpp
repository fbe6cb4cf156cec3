#include <llmc/recipe/recipe.hpp>

#include "recipe_builder.hpp"
#include "recipe_source.hpp"

namespace llmc {

Recipe Recipe::from_file(const std::filesystem::path& path, const std::string& target_stage) {
  return RecipeBuilder::build(recipe_detail::load_recipe_file(path), target_stage);
}

Recipe Recipe::from_string(const std::string& text, const std::string& target_stage) {
  return RecipeBuilder::build(recipe_detail::load_recipe_text({text, "<string>", 0}),
                              target_stage);
}

Recipe Recipe::from_specs(std::vector<ModifierSpec> modifiers, std::string stage) {
  // Upstream's from_modifiers: `modifier_group_name or "default"` names the single stage.
  if (stage.empty()) stage = "default";
  for (auto& spec : modifiers) {
    if (spec.stage.empty()) spec.stage = stage;
  }
  return RecipeBuilder::make(nlohmann::ordered_json::object(), std::move(stage),
                             std::move(modifiers));
}

}  // namespace llmc
