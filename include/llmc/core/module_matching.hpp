// Matching module names against recipe `targets` / `ignore` entries the way compressed-tensors'
// is_match / match_name / _match_class do: an exact module name, a "re:" regular expression
// (anchored at the start only, like Python's re.match: "re:mlp" does not match
// "model.mlp.up_proj", "re:.*mlp" does), or the name of any class of the module ("Linear").
// Regexes use ECMAScript syntax; Python-only syntax such as (?i) or (?P<name>...) is rejected
// with an llmc::Error naming the target.
//
//   llmc::matches_any("model.layers.0.mlp.up_proj", "Linear", {"re:.*mlp.*"})  // true
//   llmc::is_match("lm_head", {"Linear", "Module"}, {"Linear"}, {"lm_head"})  // false
#pragma once

#include <string>
#include <vector>

namespace llmc {

// CT match_name: "re:" prefix → regex match from the start of `name`; otherwise equality.
bool match_name(const std::string& module_name, const std::string& target);

// One target against a module name and one class name.
bool matches_target(const std::string& module_name, const std::string& class_name,
                    const std::string& target);
bool matches_any(const std::string& module_name, const std::string& class_name,
                 const std::vector<std::string>& targets);

// `class_names` are the module's class and base-class names (upstream walks the MRO).
bool matches_any(const std::string& module_name, const std::vector<std::string>& class_names,
                 const std::vector<std::string>& targets);

// CT is_match: some target matches and no ignore entry does (ignore wins).
bool is_match(const std::string& module_name, const std::vector<std::string>& class_names,
              const std::vector<std::string>& targets, const std::vector<std::string>& ignore);

}  // namespace llmc
