#include "recipe_source.hpp"

#include <algorithm>
#include <fstream>
#include <llmc/error.hpp>
#include <sstream>

namespace llmc::recipe_detail {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open recipe file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Upstream's _parse_recipe_from_md: the regex ^\s*(---|\+\+\+)(.*?)(---|\+\+\+) (multiline,
// dotall) — the first line whose first non-blank characters are a delimiter opens the front
// matter, the next "---" or "+++" anywhere closes it.
SourceText front_matter(const std::string& text, const std::string& file) {
  std::size_t line_start = 0;
  while (line_start < text.size()) {
    const std::size_t content = text.find_first_not_of(" \t\r\f\v", line_start);
    if (content != std::string::npos &&
        (text.compare(content, 3, "---") == 0 || text.compare(content, 3, "+++") == 0)) {
      const std::size_t begin = content + 3;
      const std::size_t end = std::min(text.find("---", begin), text.find("+++", begin));
      if (end == std::string::npos) break;
      const auto lines_before = std::count(text.begin(), text.begin() + begin, '\n');
      return {text.substr(begin, end - begin), file, static_cast<int>(lines_before)};
    }
    const std::size_t newline = text.find('\n', line_start);
    if (newline == std::string::npos) break;
    line_start = newline + 1;
  }
  throw Error(file + ": could not extract YAML front matter from recipe card (expected a block "
                     "between '---' or '+++' lines)");
}

std::string lowercase_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace

LocatedValue load_recipe_text(const SourceText& source) {
  try {
    return parse_json(source);
  } catch (const Error&) {
    return parse_yaml(source);
  }
}

LocatedValue load_recipe_file(const std::filesystem::path& path) {
  const std::string file = path.string();
  const std::string text = read_text(path);
  const std::string ext = lowercase_extension(path);
  if (ext == ".json") return parse_json({text, file, 0});
  if (ext == ".yaml" || ext == ".yml") return parse_yaml({text, file, 0});
  if (ext == ".md") return load_recipe_text(front_matter(text, file));
  return load_recipe_text({text, file, 0});
}

}  // namespace llmc::recipe_detail
