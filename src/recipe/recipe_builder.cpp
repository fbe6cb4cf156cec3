// Why the rules are what they are: LC §2.2 (stage form, mirrored) and LC §11.2 (the flat form
// upstream's docs show but never parsed). Where upstream silently yields an empty recipe we stop
// with an error that says which keys were ignored and why.
#include "recipe_builder.hpp"

#include <llmc/error.hpp>

namespace llmc {
namespace {

using recipe_detail::LocatedEntry;
using recipe_detail::LocatedValue;

constexpr const char* kStageSuffix = "_stage";
constexpr const char* kGroupSuffix = "_modifiers";
constexpr const char* kFlatStage = "default";

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Python's str.replace: upstream strips "_stage"/"_modifiers" this way, everywhere in the key.
std::string replace_all(std::string text, const std::string& what) {
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at)) {
    text.erase(at, what.size());
  }
  return text;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "'" : ", '") + item + "'";
  return out;
}

[[noreturn]] void fail_at(const SourceLocation& where, const std::string& message) {
  throw Error(where.to_string() + ": " + message);
}

// One `Class: {kwargs}` entry. A `group` kwarg names the group (upstream would pass it twice to
// the constructor and fail with a TypeError); it is taken out of args into spec.group.
ModifierSpec make_spec(const LocatedEntry& entry, const std::string& stage,
                       const std::string& group) {
  ModifierSpec spec;
  spec.type = entry.key;
  spec.stage = stage;
  spec.group = group;
  spec.location = entry.key_location;
  const LocatedValue& kwargs = entry.value;
  if (!kwargs.is_map()) {
    spec.fail("", "keyword arguments must be a mapping (`" + entry.key +
                      ": {key: value, ...}`, or `{}` for none), got " + kwargs.describe());
  }
  for (const auto& arg : kwargs.entries) {
    spec.arg_locations[arg.key] = arg.key_location;
    if (arg.key != "group") {
      spec.args[arg.key] = arg.value.to_json();
    } else if (arg.value.scalar.is_string() && !arg.value.is_map() && !arg.value.is_list()) {
      spec.group = arg.value.scalar.get<std::string>();
    } else {
      spec.fail("group", "must be a string, got " + arg.value.describe());
    }
  }
  return spec;
}

// A `<name>_stage` mapping: its `<group>_modifiers` mappings, in order.
std::vector<ModifierSpec> stage_modifiers(const LocatedEntry& stage_entry,
                                          const std::string& stage) {
  if (!stage_entry.value.is_map()) {
    fail_at(stage_entry.key_location,
            "stage '" + stage_entry.key + "' must be a mapping of '<group>_modifiers' keys, got " +
                stage_entry.value.describe());
  }
  std::vector<ModifierSpec> specs;
  std::vector<std::string> ignored;
  for (const auto& group_entry : stage_entry.value.entries) {
    if (!ends_with(group_entry.key, kGroupSuffix) || !group_entry.value.is_map()) {
      ignored.push_back(group_entry.key);
      continue;
    }
    const std::string group = replace_all(group_entry.key, kGroupSuffix);
    for (const auto& modifier : group_entry.value.entries) {
      specs.push_back(make_spec(modifier, stage, group));
    }
  }
  if (specs.empty()) {
    fail_at(stage_entry.key_location,
            "stage '" + stage_entry.key + "' holds no modifiers" +
                (ignored.empty() ? std::string()
                                 : " (ignored: " + join(ignored) +
                                       "; a group key ends in '_modifiers' and holds a mapping "
                                       "`ModifierClass: {kwargs}`)"));
  }
  return specs;
}

nlohmann::ordered_json args_of(const LocatedEntry& entry) {
  if (!entry.value.is_map()) {
    fail_at(entry.key_location, "'args' must be a mapping, got " + entry.value.describe());
  }
  return entry.value.to_json();
}

// upstream's filter_dict: keys that start with target_stage (this drops `args:` too).
bool kept_by(const std::string& target_stage, const std::string& key) {
  return target_stage.empty() || key.rfind(target_stage, 0) == 0;
}

std::vector<ModifierSpec> flat_modifiers(const LocatedValue& list) {
  std::vector<ModifierSpec> specs;
  for (const auto& item : list.items) {
    if (!item.is_map() || item.entries.size() != 1) {
      std::string got = item.describe();
      if (item.is_map()) {
        std::vector<std::string> keys;
        for (const auto& entry : item.entries) keys.push_back(entry.key);
        got = "a mapping with " + std::to_string(keys.size()) + " keys (" + join(keys) +
              "); are the kwargs indented under the class name?";
      }
      fail_at(item.location, "a recipe entry must be a single-key mapping "
                             "`- ModifierClass: {kwargs}`, got " + got);
    }
    specs.push_back(make_spec(item.entries.front(), kFlatStage, kFlatStage));
  }
  if (specs.empty()) fail_at(list.location, "the recipe's modifier list is empty");
  return specs;
}

Recipe build_flat_form(const LocatedValue& list, nlohmann::ordered_json args,
                       const std::string& target_stage) {
  if (!kept_by(target_stage, std::string(kFlatStage) + kStageSuffix)) {
    fail_at(list.location, "target_stage '" + target_stage +
                               "' matches no stage (a flat recipe is the single stage 'default')");
  }
  if (!kept_by(target_stage, "args")) args = nlohmann::ordered_json::object();
  return RecipeBuilder::make(std::move(args), kFlatStage, flat_modifiers(list));
}

// `recipe:` beside an optional `args:`; anything else is more likely a typo than intent.
Recipe build_keyed_flat_form(const LocatedValue& root, const std::string& target_stage) {
  auto args = nlohmann::ordered_json::object();
  const LocatedValue* list = nullptr;
  for (const auto& entry : root.entries) {
    if (entry.key == "args") {
      args = args_of(entry);
    } else if (entry.key == "recipe") {
      if (!entry.value.is_list()) {
        fail_at(entry.key_location, "'recipe' must be a list of `- ModifierClass: {kwargs}` "
                                    "entries, got " + entry.value.describe());
      }
      list = &entry.value;
    } else {
      fail_at(entry.key_location, "unknown top-level key '" + entry.key +
                                      "' in a flat recipe (allowed: 'recipe', 'args'; stage-form "
                                      "'<name>_stage' keys cannot be mixed with 'recipe')");
    }
  }
  return build_flat_form(*list, std::move(args), target_stage);
}

Recipe build_stage_form(const LocatedValue& root, const std::string& target_stage) {
  auto args = nlohmann::ordered_json::object();
  std::string stage = kFlatStage;
  std::vector<ModifierSpec> specs;
  std::vector<std::string> ignored, filtered_out;
  for (const auto& entry : root.entries) {
    if (!kept_by(target_stage, entry.key)) {
      filtered_out.push_back(entry.key);
    } else if (entry.key == "args") {
      args = args_of(entry);
    } else if (!ends_with(entry.key, kStageSuffix)) {
      ignored.push_back(entry.key);  // upstream ignores these too
    } else {
      stage = replace_all(entry.key, kStageSuffix);
      auto more = stage_modifiers(entry, stage);
      specs.insert(specs.end(), more.begin(), more.end());
    }
  }
  if (specs.empty()) {
    std::string why = "the recipe holds no modifiers: ";
    if (!filtered_out.empty() && ignored.empty()) {
      why += "no top-level key starts with target_stage '" + target_stage + "' (keys: " +
             join(filtered_out) + ")";
    } else {
      why += "expected '<name>_stage' keys holding '<group>_modifiers' mappings, or a list "
             "`recipe: [- ModifierClass: {kwargs}]`";
      if (!ignored.empty()) why += " (ignored: " + join(ignored) + ")";
    }
    fail_at(root.location, why);
  }
  return RecipeBuilder::make(std::move(args), std::move(stage), std::move(specs));
}

}  // namespace

Recipe RecipeBuilder::make(nlohmann::ordered_json args, std::string stage,
                           std::vector<ModifierSpec> modifiers) {
  Recipe recipe;
  recipe.args_ = std::move(args);
  recipe.stage_ = std::move(stage);
  recipe.modifiers_ = std::move(modifiers);
  return recipe;
}

Recipe RecipeBuilder::build(const LocatedValue& root, const std::string& target_stage) {
  if (root.is_list()) return build_flat_form(root, nlohmann::ordered_json::object(), target_stage);
  if (!root.is_map()) {
    fail_at(root.location, "a recipe is a mapping ('<name>_stage' keys, or 'recipe:' holding a "
                           "list) or a list of `- ModifierClass: {kwargs}`, got " +
                               root.describe() +
                               (root.scalar.is_string() ? " (a file path that does not exist?)"
                                                        : ""));
  }
  for (const auto& entry : root.entries) {
    if (entry.key == "recipe") return build_keyed_flat_form(root, target_stage);
  }
  return build_stage_form(root, target_stage);
}

}  // namespace llmc
