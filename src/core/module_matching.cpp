#include <algorithm>
#include <llmc/core/module_matching.hpp>
#include <llmc/error.hpp>
#include <regex>

namespace llmc {

bool match_name(const std::string& module_name, const std::string& target) {
  if (target.rfind("re:", 0) != 0) return target == module_name;
  try {
    // Python's re.match anchors at the start only: emulate with match_continuous.
    const std::regex pattern(target.substr(3), std::regex::ECMAScript);
    return std::regex_search(module_name, pattern, std::regex_constants::match_continuous);
  } catch (const std::regex_error& e) {
    throw Error("target '" + target + "': invalid regular expression (" + e.what() + ")");
  }
}

bool matches_target(const std::string& module_name, const std::string& class_name,
                    const std::string& target) {
  // A "re:" target never names a class (':' cannot appear in a class name), as upstream notes.
  return match_name(module_name, target) || target == class_name;
}

bool matches_any(const std::string& module_name, const std::string& class_name,
                 const std::vector<std::string>& targets) {
  return matches_any(module_name, std::vector<std::string>{class_name}, targets);
}

bool matches_any(const std::string& module_name, const std::vector<std::string>& class_names,
                 const std::vector<std::string>& targets) {
  for (const auto& target : targets) {
    if (match_name(module_name, target)) return true;
    if (std::find(class_names.begin(), class_names.end(), target) != class_names.end()) {
      return true;
    }
  }
  return false;
}

bool is_match(const std::string& module_name, const std::vector<std::string>& class_names,
              const std::vector<std::string>& targets, const std::vector<std::string>& ignore) {
  return matches_any(module_name, class_names, targets) &&
         !matches_any(module_name, class_names, ignore);
}

}  // namespace llmc
