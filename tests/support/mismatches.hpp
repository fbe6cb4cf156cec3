// Mismatches: collects bit-equality failures over many oracle cases so one broken case reports
// a readable summary (the first 25) instead of thousands of lines.
//
//   llmc::test::Mismatches m;
//   m.check(actual, expected, "case.scale");
//   CHECK(m.lines.empty());  INFO(m.summary());
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
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

}  // namespace llmc::test
