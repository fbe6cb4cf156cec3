// Internal: recipe text → document, choosing JSON or YAML the way upstream's
// Recipe.create_instance does (LC §2.1).
#pragma once

#include <filesystem>
#include <string>

#include "located_value.hpp"

namespace llmc::recipe_detail {

// By the file's extension: .json, .yaml/.yml, .md (front matter), else JSON then YAML.
LocatedValue load_recipe_file(const std::filesystem::path& path);
// JSON, then YAML; when both fail, the YAML error (the syntax recipes are usually written in).
LocatedValue load_recipe_text(const SourceText& source);

}  // namespace llmc::recipe_detail
