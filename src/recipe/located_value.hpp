// Internal: a parsed YAML or JSON document that remembers where every value and every mapping
// key sits, so recipe errors can point at "file:line:column" whichever syntax was used.
#pragma once

#include <llmc/recipe/modifier_spec.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace llmc::recipe_detail {

struct LocatedEntry;

struct LocatedValue {
  enum class Kind { scalar, map, list };
  Kind kind = Kind::scalar;
  nlohmann::ordered_json scalar;      // Kind::scalar: null, bool, number or string
  std::vector<LocatedEntry> entries;  // Kind::map, in document order
  std::vector<LocatedValue> items;    // Kind::list
  SourceLocation location;            // where the value starts

  bool is_map() const { return kind == Kind::map; }
  bool is_list() const { return kind == Kind::list; }
  // The whole subtree as JSON (key order kept).
  nlohmann::ordered_json to_json() const;
  // "a mapping", "a list", "a string 'abc'", "null", ... for error messages.
  std::string describe() const;
};

struct LocatedEntry {
  std::string key;
  SourceLocation key_location;
  LocatedValue value;
};

// Where a document's text came from: the file named in locations, and how many lines precede
// the text in that file (a .md recipe's front matter starts below its first line).
struct SourceText {
  std::string text;
  std::string file;
  int line_offset = 0;
};

// Throw llmc::Error "file:line:column: malformed YAML|JSON: ..." on syntax errors, and on a
// mapping key that repeats (upstream keeps the last silently; a lost modifier is worse).
LocatedValue parse_yaml(const SourceText& source);
LocatedValue parse_json(const SourceText& source);

// Adds `entry` to `map`, or throws naming both places when the key is already there.
void add_unique_entry(LocatedValue& map, LocatedEntry entry);

}  // namespace llmc::recipe_detail
