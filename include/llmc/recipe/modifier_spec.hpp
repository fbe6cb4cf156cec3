// ModifierSpec: one modifier entry of a recipe, before it is turned into a Modifier — its class
// name, stage and group, its keyword arguments, and where in the recipe file each came from so
// errors can say "recipe.yaml:12:9: QuantizationModifier.scheme: unknown preset 'W5A16' ...".
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace llmc {

struct SourceLocation {
  std::string file;  // path, or "<string>" for recipes parsed from text
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown

  // "file:line:column" (parts that are unknown are left out).
  std::string to_string() const;
};

struct ModifierSpec {
  std::string type;   // class name as written: "QuantizationModifier", "IMatrixGatherer", ...
  std::string stage;  // stage name without the "_stage" suffix ("default" for flat recipes)
  std::string group;  // group name without "_modifiers" (or the `group` kwarg when given)
  nlohmann::ordered_json args = nlohmann::ordered_json::object();  // kwargs, in file order
  SourceLocation location;                               // where the entry starts
  std::map<std::string, SourceLocation> arg_locations;   // per top-level kwarg

  // Throws llmc::Error "<location of key>: <type>.<key>: <message>"; an empty key names the
  // modifier itself.
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
};

}  // namespace llmc
