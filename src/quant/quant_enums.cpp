// String spellings of the quantization enums and torch dtypes, as compressed-tensors writes
// and accepts them (quant_args.py enums, utils/type.py TorchDtype).
#include <algorithm>
#include <array>
#include <cctype>
#include <llmc/quant/quantization_args.hpp>
#include <string_view>
#include <utility>

#include "field_error.hpp"

namespace llmc {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

constexpr std::array<std::pair<std::string_view, QuantizationStrategy>, 7> kStrategies{{
    {"tensor", QuantizationStrategy::Tensor},
    {"channel", QuantizationStrategy::Channel},
    {"group", QuantizationStrategy::Group},
    {"block", QuantizationStrategy::Block},
    {"token", QuantizationStrategy::Token},
    {"tensor_group", QuantizationStrategy::TensorGroup},
    {"attn_head", QuantizationStrategy::AttnHead},
}};

// Every attribute of the `torch` module that is a dtype and that a quantization config can
// name, under each of its spellings; the first spelling of a ScalarType is torch's str().
struct DtypeName {
  std::string_view name;
  c10::ScalarType dtype;
};
constexpr std::array<DtypeName, 25> kDtypes{{
    {"float32", c10::ScalarType::Float},
    {"float", c10::ScalarType::Float},
    {"float64", c10::ScalarType::Double},
    {"double", c10::ScalarType::Double},
    {"float16", c10::ScalarType::Half},
    {"half", c10::ScalarType::Half},
    {"bfloat16", c10::ScalarType::BFloat16},
    {"int8", c10::ScalarType::Char},
    {"int16", c10::ScalarType::Short},
    {"short", c10::ScalarType::Short},
    {"int32", c10::ScalarType::Int},
    {"int", c10::ScalarType::Int},
    {"int64", c10::ScalarType::Long},
    {"long", c10::ScalarType::Long},
    {"uint8", c10::ScalarType::Byte},
    {"uint16", c10::ScalarType::UInt16},
    {"uint32", c10::ScalarType::UInt32},
    {"uint64", c10::ScalarType::UInt64},
    {"bool", c10::ScalarType::Bool},
    {"float8_e4m3fn", c10::ScalarType::Float8_e4m3fn},
    {"float8_e5m2", c10::ScalarType::Float8_e5m2},
    {"float8_e4m3fnuz", c10::ScalarType::Float8_e4m3fnuz},
    {"float8_e5m2fnuz", c10::ScalarType::Float8_e5m2fnuz},
    {"float8_e8m0fnu", c10::ScalarType::Float8_e8m0fnu},
    {"float4_e2m1fn_x2", c10::ScalarType::Float4_e2m1fn_x2},
}};

}  // namespace

std::string to_string(QuantizationType type) {
  return type == QuantizationType::Int ? "int" : "float";
}

std::string to_string(QuantizationStrategy strategy) {
  for (const auto& [name, value] : kStrategies) {
    if (value == strategy) return std::string(name);
  }
  throw Error("QuantizationStrategy: invalid enum value");
}

// dynamic is a bool or "local" upstream; these are the JSON spellings of the three values.
std::string to_string(DynamicType dynamic) {
  switch (dynamic) {
    case DynamicType::Static:
      return "false";
    case DynamicType::Dynamic:
      return "true";
    case DynamicType::Local:
      return "local";
  }
  throw Error("DynamicType: invalid enum value");
}

std::string to_string(ActivationOrdering order) {
  return order == ActivationOrdering::Group ? "group" : "weight";
}

QuantizationType parse_quantization_type(const std::string& text, const std::string& field) {
  const std::string key = lower(text);
  if (key == "int") return QuantizationType::Int;
  if (key == "float") return QuantizationType::Float;
  detail::field_error(field, "unknown '" + text + "'", "int, float");
}

QuantizationStrategy parse_quantization_strategy(const std::string& text,
                                                 const std::string& field) {
  const std::string key = lower(text);
  std::string allowed;
  for (const auto& [name, value] : kStrategies) {
    if (name == key) return value;
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  detail::field_error(field, "unknown '" + text + "'", allowed);
}

// CT 0.19 removed group ordering: "group" and its alias "dynamic" are rejected, "static" is an
// alias of "weight" (Aliasable: ActivationOrdering.STATIC == WEIGHT). Unlike type and strategy,
// upstream has no lower-casing validator here, so the spelling is exact.
ActivationOrdering parse_activation_ordering(const std::string& text, const std::string& field) {
  if (text == "weight" || text == "static") return ActivationOrdering::Weight;
  if (text == "group" || text == "dynamic") {
    detail::field_error(field,
                        "'" + text +
                            "' has been removed upstream (compressed-tensors "
                            "0.19); use 'weight' or null",
                        "weight, static, null");
  }
  detail::field_error(field, "unknown '" + text + "'", "weight, static, null");
}

// Like TorchDtype: an optional "torch." prefix, then the exact (case-sensitive) attribute name.
c10::ScalarType parse_torch_dtype(const std::string& text, const std::string& field) {
  std::string_view name = text;
  if (name.starts_with("torch.")) name.remove_prefix(6);
  for (const auto& entry : kDtypes) {
    if (entry.name == name) return entry.dtype;
  }
  detail::field_error(field, "no such torch dtype '" + text + "'",
                      "torch.float8_e4m3fn, torch.uint8, torch.bfloat16, torch.int8, ... "
                      "with or without the 'torch.' prefix");
}

std::string torch_dtype_name(c10::ScalarType dtype) {
  for (const auto& entry : kDtypes) {
    if (entry.dtype == dtype) return "torch." + std::string(entry.name);
  }
  throw Error(std::string("torch_dtype_name: unsupported dtype ") + c10::toString(dtype));
}

}  // namespace llmc
