// Test support for the quantization oracles (tests/oracle/_quant_cases.py): args of a case,
// its kind, and optional tensors.
#pragma once

#include <llmc/quant/quantization_args.hpp>

#include <optional>
#include <string>

#include "support/oracle.hpp"

namespace llmc::test {

// QuantizationArgs::from_json of the case's "args", with the case's "zp_dtype" restored:
// compressed-tensors' model_dump writes null for symmetric args even where a preset set it
// (MXFP4/MXFP8 use uint8; inference from the JSON would give e4m3).
inline QuantizationArgs args_of(const nlohmann::json& test_case) {
  QuantizationArgs args = QuantizationArgs::from_json(test_case.at("args"));
  if (test_case.contains("zp_dtype")) {
    args.zp_dtype(parse_torch_dtype(test_case.at("zp_dtype").get<std::string>(), "zp_dtype"));
  }
  return args;
}

inline bool is_kind(const nlohmann::json& test_case, const std::string& kind) {
  return test_case.at("kind_of_case").get<std::string>() == kind;
}

inline std::optional<at::Tensor> optional_tensor(const Oracle& oracle,
                                                 const nlohmann::json& test_case,
                                                 const std::string& key) {
  if (!oracle.has_tensor(test_case, key)) return std::nullopt;
  return oracle.tensor(test_case, key);
}

}  // namespace llmc::test
