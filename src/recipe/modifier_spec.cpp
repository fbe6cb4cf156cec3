#include <llmc/error.hpp>
#include <llmc/recipe/modifier_spec.hpp>

namespace llmc {

std::string SourceLocation::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

void ModifierSpec::fail(const std::string& key, const std::string& message) const {
  // A key's own location beats the entry's: the user sees the line to edit.
  const SourceLocation* where = &location;
  if (!key.empty()) {
    const auto it = arg_locations.find(key);
    if (it != arg_locations.end()) where = &it->second;
  }
  const std::string prefix = where->to_string();
  const std::string subject = key.empty() ? type : type + "." + key;
  throw Error((prefix.empty() ? "" : prefix + ": ") + subject + ": " + message);
}

}  // namespace llmc
