#include "located_value.hpp"

#include <llmc/error.hpp>

namespace llmc::recipe_detail {

nlohmann::ordered_json LocatedValue::to_json() const {
  switch (kind) {
    case Kind::scalar:
      return scalar;
    case Kind::map: {
      auto out = nlohmann::ordered_json::object();
      for (const auto& entry : entries) out[entry.key] = entry.value.to_json();
      return out;
    }
    case Kind::list: {
      auto out = nlohmann::ordered_json::array();
      for (const auto& item : items) out.push_back(item.to_json());
      return out;
    }
  }
  return nullptr;
}

std::string LocatedValue::describe() const {
  if (kind == Kind::map) return "a mapping";
  if (kind == Kind::list) return "a list";
  if (scalar.is_null()) return "null (nothing)";
  if (scalar.is_string()) return "the string '" + scalar.get<std::string>() + "'";
  return std::string("the ") + scalar.type_name() + " " + scalar.dump();
}

void add_unique_entry(LocatedValue& map, LocatedEntry entry) {
  for (const auto& existing : map.entries) {
    if (existing.key == entry.key) {
      throw Error(entry.key_location.to_string() + ": duplicate key '" + entry.key +
                  "' (first at " + existing.key_location.to_string() +
                  "); a mapping holds each key once, so one of the two would be lost");
    }
  }
  map.entries.push_back(std::move(entry));
}

}  // namespace llmc::recipe_detail
