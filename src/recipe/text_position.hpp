// Internal: byte offset in a text → 1-based line and column.
#pragma once

#include <llmc/recipe/modifier_spec.hpp>
#include <string>
#include <vector>

namespace llmc::recipe_detail {

class TextPositions {
 public:
  explicit TextPositions(const std::string& text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  SourceLocation locate(std::size_t offset, const std::string& file, int line_offset) const {
    // The last line start at or before `offset`.
    std::size_t line = 0;
    while (line + 1 < line_starts_.size() && line_starts_[line + 1] <= offset) ++line;
    return {file, line_offset + static_cast<int>(line) + 1,
            static_cast<int>(offset - line_starts_[line]) + 1};
  }

 private:
  std::vector<std::size_t> line_starts_{0};
};

}  // namespace llmc::recipe_detail
