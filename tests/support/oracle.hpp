// Test support: Python oracles (tests/oracle/<name>.py run against the pinned
// compressed-tensors / llmcompressor) and bit-exact tensor comparison.
//
//   const auto& oracle = llmc::test::Oracle::get("qparams");
//   for (const auto& c : oracle.cases()) { at::Tensor x = oracle.tensor(c, "input"); ... }
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace llmc::test {

// An oracle's output: <dir>/<name>.json {"cases": [{"id": ..., ...}, ...]} and
// <dir>/<name>.safetensors holding tensors named "<case id>.<key>".
class Oracle {
 public:
  // Loads the oracle's output, running the script first if CTest's fixture has not (so the test
  // binary also works on its own). Cached per process.
  static const Oracle& get(const std::string& name);

  const nlohmann::json& cases() const { return cases_; }
  // Tensor "<id>.<key>"; throws with the available keys when missing.
  at::Tensor tensor(const nlohmann::json& test_case, const std::string& key) const;
  bool has_tensor(const nlohmann::json& test_case, const std::string& key) const;

 private:
  nlohmann::json cases_;
  std::map<std::string, at::Tensor> tensors_;
};

// Same dtype, same shape and the same bytes (NaN payloads and -0 included). On mismatch
// returns false and describes the first differing element and the count in `why`.
bool bit_equal(const at::Tensor& actual, const at::Tensor& expected, std::string* why = nullptr);

// A fresh, empty temporary directory (unique per call) under the system temp directory.
std::filesystem::path temp_dir(const std::string& tag);

}  // namespace llmc::test

// CHECK that two tensors are bit-identical, printing where they differ.
#define LLMC_CHECK_BIT_EQUAL(actual, expected, context)                              \
  do {                                                                               \
    std::string llmc_why_;                                                           \
    const bool llmc_ok_ = ::llmc::test::bit_equal((actual), (expected), &llmc_why_); \
    INFO(context << ": " << llmc_why_);                                              \
    CHECK(llmc_ok_);                                                                 \
  } while (0)
