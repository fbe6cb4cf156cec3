// QuantizationArgs: how one tensor (weights, input or output activations) is quantized —
// the C++ twin of compressed-tensors' QuantizationArgs (LC reference §4.1), same fields,
// defaults, aliases, validation and JSON spellings.
//
//   auto args = llmc::QuantizationArgs().num_bits(4).group_size(128).validated();
//   // args.strategy() == QuantizationStrategy::Group, args.zp_dtype() == torch.int8
//
// Pinned upstream is CT 0.19: args no longer infer an observer (observer stays null; llm-compressor
// picks "memoryless_minmax" for weights and "minmax" otherwise when it builds the observer), and
// group activation ordering was removed ("group"/"dynamic"/true are rejected).
#pragma once

#include <c10/core/ScalarType.h>
#include <torch/arg.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace llmc {

enum class QuantizationType { Int, Float };
enum class QuantizationStrategy { Tensor, Channel, Group, Block, Token, TensorGroup, AttnHead };
// compressed-tensors' `dynamic`: False, True or "local" (only local scales dynamic; NVFP4).
enum class DynamicType { Static, Dynamic, Local };
// GPTQ activation ordering. "static" parses as Weight (upstream alias). Group ("dynamic") was
// removed in CT 0.19: the parsers and validated() reject it; the value stays so that code
// naming it still compiles and gets a clear error.
enum class ActivationOrdering { Group, Weight };

// Upstream string spellings ("int", "tensor_group", "local", "weight", ...).
std::string to_string(QuantizationType type);
std::string to_string(QuantizationStrategy strategy);
std::string to_string(DynamicType dynamic);
std::string to_string(ActivationOrdering order);
// Parsers; throw llmc::Error naming `field` and the allowed values. Type and strategy are
// case-insensitive, actorder is exact ("weight", "static"), as upstream's validators are.
QuantizationType parse_quantization_type(const std::string& text,
                                         const std::string& field = "type");
QuantizationStrategy parse_quantization_strategy(const std::string& text,
                                                 const std::string& field = "strategy");
ActivationOrdering parse_activation_ordering(const std::string& text,
                                             const std::string& field = "actorder");
// "torch.float8_e4m3fn" / "float8_e4m3fn" / "bfloat16" ... → ScalarType, and back to "torch.xxx".
c10::ScalarType parse_torch_dtype(const std::string& text, const std::string& field);
std::string torch_dtype_name(c10::ScalarType dtype);

struct QuantizationArgs {
  TORCH_ARG(int64_t, num_bits) = 8;
  TORCH_ARG(QuantizationType, type) = QuantizationType::Int;
  TORCH_ARG(bool, symmetric) = true;
  TORCH_ARG(std::optional<int64_t>, group_size) = std::nullopt;
  TORCH_ARG(std::optional<QuantizationStrategy>, strategy) = std::nullopt;
  // [rows, cols] of a block; "RxC" strings are accepted when parsed from JSON.
  TORCH_ARG(std::optional<std::vector<int64_t>>, block_structure) = std::nullopt;
  TORCH_ARG(DynamicType, dynamic) = DynamicType::Static;
  TORCH_ARG(std::optional<ActivationOrdering>, actorder) = std::nullopt;
  TORCH_ARG(std::optional<c10::ScalarType>, scale_dtype) = std::nullopt;
  TORCH_ARG(std::optional<c10::ScalarType>, zp_dtype) = std::nullopt;
  TORCH_ARG(std::optional<std::string>, observer) = std::nullopt;
  // Observer keyword arguments (maxshrink, grid, norm, ...), kept as JSON like upstream's dict.
  TORCH_ARG(nlohmann::json, observer_kwargs) = nlohmann::json::object();

 public:  // TORCH_ARG leaves the access specifier at private
  // Applies upstream's field and model validators: infers strategy and zp_dtype, checks every
  // rule of LC §4.1 (as of CT 0.19) plus num_bits (int 1..32, float 4/8), and throws
  // llmc::Error naming the field and the allowed values.
  QuantizationArgs validated() const;

  // Integer/float range of the quantized type: int b-bit is signed [-2^(b-1), 2^(b-1)-1];
  // fp8 e4m3 ±448; fp4 e2m1 ±6 (LC §6.1). Requires validated args.
  double q_min() const;
  double q_max() const;
  // Storage dtype of quantized values (int8/int16/int32, float8_e4m3fn; fp4 stays float).
  // Throws for num_bits outside what validated() accepts.
  c10::ScalarType pytorch_dtype() const;
  // True for MXFP4/MXFP8: float 4 or 8 bits, group 32, uint8 exponent scales (LC §6.4).
  bool is_mx() const;
  bool is_fp4() const { return type_ == QuantizationType::Float && num_bits_ == 4; }

  // compressed-tensors' JSON (model_dump): every field, enums as strings, dtypes "torch.xxx",
  // zp_dtype null when symmetric. from_json rejects unknown keys (pydantic extra="forbid"),
  // accepts "RxC" block strings and "xxx"/"torch.xxx" dtypes, and returns validated args.
  nlohmann::json to_json() const;
  static QuantizationArgs from_json(const nlohmann::json& json);

  bool operator==(const QuantizationArgs& other) const;
  bool operator!=(const QuantizationArgs& other) const { return !(*this == other); }
};

std::ostream& operator<<(std::ostream& os, const QuantizationArgs& args);

}  // namespace llmc
