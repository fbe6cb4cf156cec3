// Group-size divisibility of GROUP / TENSOR_GROUP weights (LC §3.4, group_size_validation.py):
// a layer with at least group_size columns must divide by it, or vLLM cannot load the result.
//
//   llmc::validate_group_size_divisibility(llmc::nn::named_linears(*model));
#pragma once

#include <llmc/nn/modules.hpp>
#include <llmc/quant/quantization_args.hpp>
#include <optional>
#include <string>
#include <vector>

namespace llmc {

struct GroupSizeOffender {
  std::string name;
  int64_t columns;
  int64_t group_size;
};

// The offender record when `weights` are GROUP / TENSOR_GROUP and columns >= group_size does not
// divide; other strategies (BLOCK, CHANNEL, TENSOR) are never checked, as upstream.
std::optional<GroupSizeOffender> check_group_size(const std::string& name, int64_t columns,
                                                  const QuantizationArgs& weights);

// Throws llmc::Error listing every offender ("name (columns=C, group_size=G)") and the ways out
// (`hint`: ignore them, or bypass_divisibility_checks). Modules without a scheme or weights
// are skipped.
void validate_group_size_divisibility(const std::vector<nn::NamedLinear>& linears,
                                      const std::string& hint);

// The message for a non-empty offender list.
std::string group_size_error_message(const std::vector<GroupSizeOffender>& offenders,
                                     const std::string& hint);

}  // namespace llmc
