// Internal: a parsed document → Recipe, in upstream's stage form (LC §2.2) or our flat form.
#pragma once

#include <llmc/recipe/recipe.hpp>
#include <string>

#include "located_value.hpp"

namespace llmc {

class RecipeBuilder {
 public:
  static Recipe build(const recipe_detail::LocatedValue& root, const std::string& target_stage);
  static Recipe make(nlohmann::ordered_json args, std::string stage,
                     std::vector<ModifierSpec> modifiers);
};

}  // namespace llmc
