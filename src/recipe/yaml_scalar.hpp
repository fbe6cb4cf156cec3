// Internal: what a plain (unquoted) YAML scalar means, the way the recipe's author expects
// from PyYAML's safe_load, which upstream uses (YAML 1.1 core resolvers).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace llmc::recipe_detail {

// null for "", "~", null/Null/NULL; booleans for true/yes/on/false/no/off (any of PyYAML's
// spellings); integers in decimal, 0x hex, 0b binary and 0-prefixed octal, with '_' separators;
// floats with a '.', .inf and .nan. Deviation: a float without '.' ("1e-2") is a float here;
// PyYAML reads it as a string that pydantic then coerces to the same float (LC §2.2).
// Everything else (sexagesimal and timestamps included) is the string itself.
nlohmann::ordered_json resolve_plain_scalar(const std::string& text);

}  // namespace llmc::recipe_detail
