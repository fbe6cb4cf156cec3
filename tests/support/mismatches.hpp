// Mismatches: collects bit-equality failures over many oracle cases so one broken case reports
// a readable summary (the first 25) instead of thousands of lines.
//
//   llmc::test::Mismatches m;
//   m.check(actual, expected, "case.scale");
//   CHECK(m.lines.empty());  INFO(m.summary());
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "oracle.hpp"

namespace llmc::test {

struct Mismatches {
  std::vector<std::string> lines;
  int64_t compared = 0;

  void check(const at::Tensor& actual, const at::Tensor& expected, const std::string& what) {
    ++compared;
    std::string why;
    if (!bit_equal(actual, expected, &why)) lines.push_back(what + ": " + why);
  }
  void fail(const std::string& what) { lines.push_back(what); }
  std::string summary() const {
    std::ostringstream out;
    out << lines.size() << " mismatches in " << compared << " comparisons";
    for (size_t i = 0; i < lines.size() && i < 25; ++i) out << "\n  " << lines[i];
    return out.str();
  }
};

// Bitwise comparisons of equally long float vectors: how many entries differed in all, and the
// first that did, as "<what>: <a> vs <b>" in hex floats (`what` names the entry).
struct BitDifferences {
  int64_t count = 0;
  std::string first;

  template <class What>
  void compare(const std::vector<float>& a, const std::vector<float>& b, const What& what) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (std::memcmp(&a[i], &b[i], sizeof(float)) == 0) continue;
      if (count++ == 0) {
        char values[96];
        std::snprintf(values, sizeof values, ": %a vs %a", a[i], b[i]);
        first = what(i) + values;
      }
    }
    if (a.size() != b.size() && count++ == 0) first = "lengths differ";
  }
};

}  // namespace llmc::test
