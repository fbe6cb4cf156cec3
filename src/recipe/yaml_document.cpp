// YAML text → LocatedValue with yaml-cpp, whose marks give every node's line and column.
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include <llmc/error.hpp>

#include "located_value.hpp"
#include "yaml_scalar.hpp"

namespace llmc::recipe_detail {
namespace {

constexpr const char* kCoreTag = "tag:yaml.org,2002:";

class YamlConverter {
 public:
  explicit YamlConverter(const SourceText& source) : source_(source) {}

  LocatedValue convert(const YAML::Node& node) const {
    LocatedValue out;
    out.location = locate(node.Mark());
    switch (node.Type()) {
      case YAML::NodeType::Map:
        out.kind = LocatedValue::Kind::map;
        add_map_entries(out, node);
        break;
      case YAML::NodeType::Sequence:
        out.kind = LocatedValue::Kind::list;
        for (const auto& item : node) out.items.push_back(convert(item));
        break;
      case YAML::NodeType::Scalar:
        out.scalar = scalar_value(node);
        break;
      default:  // Null and Undefined (an empty document)
        out.scalar = nullptr;
    }
    return out;
  }

  SourceLocation locate(const YAML::Mark& mark) const {
    if (mark.is_null()) return {source_.file, 0, 0};
    return {source_.file, source_.line_offset + mark.line + 1, mark.column + 1};
  }

 private:
  nlohmann::ordered_json scalar_value(const YAML::Node& node) const {
    const std::string& tag = node.Tag();
    // "!" marks a quoted scalar, "?" a plain one; quoted text is always a string.
    const std::string core = std::string(kCoreTag);
    if (tag == "!" || tag == core + "str") return node.Scalar();
    if (tag == "?" || tag == core + "int" || tag == core + "float" || tag == core + "bool" ||
        tag == core + "null") {
      return resolve_plain_scalar(node.Scalar());
    }
    throw Error(locate(node.Mark()).to_string() + ": unsupported YAML tag '" + tag +
                "' (a recipe holds plain mappings, lists and scalars, as yaml.safe_load reads)");
  }

  static bool is_merge_key(const YAML::Node& key) {
    return key.IsScalar() && key.Tag() == "?" && key.Scalar() == "<<";
  }

  // "<<: *anchor" merges as PyYAML's safe_load does (yaml-cpp 0.7 keeps it as a plain key):
  // merged keys first, later merge sources overriding earlier ones, then the mapping's own
  // keys, which override merged values but may not repeat among themselves.
  void add_map_entries(LocatedValue& map, const YAML::Node& node) const {
    for (const auto& pair : node) {
      if (is_merge_key(pair.first)) merge(map, pair.second);
    }
    const std::size_t merged_count = map.entries.size();
    for (const auto& pair : node) {
      if (is_merge_key(pair.first)) continue;
      if (!pair.first.IsScalar()) {
        throw Error(locate(pair.first.Mark()).to_string() +
                    ": a mapping key must be a plain value, not a list or mapping");
      }
      LocatedEntry entry{pair.first.Scalar(), locate(pair.first.Mark()), convert(pair.second)};
      const auto merged_end = map.entries.begin() + static_cast<std::ptrdiff_t>(merged_count);
      const auto it = std::find_if(map.entries.begin(), merged_end,
                                   [&](const LocatedEntry& e) { return e.key == entry.key; });
      if (it != merged_end) {
        *it = std::move(entry);
      } else {
        add_unique_entry(map, std::move(entry));
      }
    }
  }

  void merge(LocatedValue& map, const YAML::Node& source) const {
    if (source.IsSequence()) {
      for (std::size_t i = source.size(); i-- > 0;) merge(map, source[i]);
      return;
    }
    if (!source.IsMap()) {
      throw Error(locate(source.Mark()).to_string() +
                  ": '<<' merges a mapping or a list of mappings");
    }
    for (auto& entry : convert(source).entries) {
      const auto it = std::find_if(map.entries.begin(), map.entries.end(),
                                   [&](const LocatedEntry& e) { return e.key == entry.key; });
      if (it != map.entries.end()) {
        it->value = std::move(entry.value);
      } else {
        map.entries.push_back(std::move(entry));
      }
    }
  }

  const SourceText& source_;
};

}  // namespace

LocatedValue parse_yaml(const SourceText& source) {
  const YamlConverter converter(source);
  YAML::Node root;
  try {
    root = YAML::Load(source.text);
  } catch (const YAML::ParserException& e) {
    throw Error(converter.locate(e.mark).to_string() + ": malformed YAML: " + e.msg);
  }
  LocatedValue value = converter.convert(root);
  if (value.location.line == 0) value.location = {source.file, source.line_offset + 1, 1};
  return value;
}

}  // namespace llmc::recipe_detail
