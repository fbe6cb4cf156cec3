#include <llmc/core/module_matching.hpp>
#include <llmc/error.hpp>

#include <regex>

namespace llmc {

bool matches_target(const std::string& module_name, const std::string& class_name,
                    const std::string& target) {
  if (target.rfind("re:", 0) == 0) {
    try {
      // Python's re.match anchors at the start only: emulate with match_continuous.
      const std::regex pattern(target.substr(3), std::regex::ECMAScript);
      return std::regex_search(module_name, pattern, std::regex_constants::match_continuous);
    } catch (const std::regex_error& e) {
      throw Error("target '" + target + "': invalid regular expression (" + e.what() + ")");
    }
  }
  return target == module_name || target == class_name;
}

bool matches_any(const std::string& module_name, const std::string& class_name,
                 const std::vector<std::string>& targets) {
  for (const auto& t : targets) {
    if (matches_target(module_name, class_name, t)) return true;
  }
  return false;
}

}  // namespace llmc
