// Matching module names against recipe `targets` / `ignore` entries the way llm-compressor
// does: a class name ("Linear"), an exact module name, or a "re:" regular expression
// (searched from the start of the name, like Python's re.match).
//
//   llmc::matches_any("model.layers.0.mlp.up_proj", "Linear", {"re:.*mlp.*"})  // true
#pragma once

#include <string>
#include <vector>

namespace llmc {

bool matches_target(const std::string& module_name, const std::string& class_name,
                    const std::string& target);
bool matches_any(const std::string& module_name, const std::string& class_name,
                 const std::vector<std::string>& targets);

}  // namespace llmc
