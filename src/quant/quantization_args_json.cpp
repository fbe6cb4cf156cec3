// QuantizationArgs <-> compressed-tensors JSON: the keys and value spellings of
// QuantizationArgs.model_dump(mode="json"), and pydantic's extra="forbid" on input.
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <llmc/quant/quantization_args.hpp>
#include <sstream>
#include <string_view>

#include "field_error.hpp"

namespace llmc {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 12> kKeys{
    "num_bits", "type",     "symmetric",   "group_size", "strategy", "block_structure",
    "dynamic",  "actorder", "scale_dtype", "zp_dtype",   "observer", "observer_kwargs"};

[[noreturn]] void fail(const std::string& field, const std::string& problem,
                       const std::string& allowed = "") {
  detail::field_error("QuantizationArgs." + field, problem, allowed);
}

std::string joined_keys() {
  std::string out;
  for (auto key : kKeys) out += (out.empty() ? "" : ", ") + std::string(key);
  return out;
}

// pydantic (lax mode) takes ints and integral floats for an int field.
int64_t read_int(const json& value, const std::string& field) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (std::trunc(number) == number) return static_cast<int64_t>(number);
  }
  fail(field, "expected an integer, got " + value.dump());
}

const std::string& read_string(const json& value, const std::string& field) {
  if (!value.is_string()) fail(field, "expected a string, got " + value.dump());
  return value.get_ref<const std::string&>();
}

int64_t parse_block_dim(std::string text, const std::string& raw) {
  text.erase(
      std::remove_if(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); }),
      text.end());
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](unsigned char c) { return std::isdigit(c); });
  if (!digits || text.size() > 12) {
    fail("block_structure", "invalid '" + raw + "'", "[R, C] or \"RxC\" with positive ints");
  }
  return std::stoll(text);
}

// [rows, cols], or the legacy "RxC" string upstream still accepts ("128x128").
std::vector<int64_t> read_block_structure(const json& value) {
  std::vector<int64_t> dims;
  if (value.is_string()) {
    std::stringstream stream(value.get<std::string>());
    for (std::string part; std::getline(stream, part, 'x');) {
      dims.push_back(parse_block_dim(part, value.get<std::string>()));
    }
  } else if (value.is_array()) {
    for (const auto& dim : value) dims.push_back(read_int(dim, "block_structure"));
  } else {
    fail("block_structure", "invalid " + value.dump(), "[R, C] or \"RxC\"");
  }
  return dims;  // length and positivity are checked by validated()
}

DynamicType read_dynamic(const json& value) {
  if (value.is_boolean()) return value.get<bool>() ? DynamicType::Dynamic : DynamicType::Static;
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (text == "local") return DynamicType::Local;
  }
  fail("dynamic", "unknown " + value.dump(), "true, false, \"local\"");
}

// False means "no ordering"; True used to mean group ordering, which CT 0.19 removed.
std::optional<ActivationOrdering> read_actorder(const json& value) {
  if (value.is_null() || value == false) return std::nullopt;
  if (value == true) {
    fail("actorder", "true (group ordering) has been removed upstream (compressed-tensors 0.19)",
         "weight, static, null");
  }
  return parse_activation_ordering(read_string(value, "actorder"), "QuantizationArgs.actorder");
}

std::optional<c10::ScalarType> read_dtype(const json& value, const std::string& field) {
  if (value.is_null()) return std::nullopt;
  return parse_torch_dtype(read_string(value, field), "QuantizationArgs." + field);
}

void read_field(QuantizationArgs& args, const std::string& key, const json& value) {
  const bool null = value.is_null();
  if (key == "num_bits") {
    args.num_bits(read_int(value, key));
  } else if (key == "type") {
    args.type(parse_quantization_type(read_string(value, key), "QuantizationArgs.type"));
  } else if (key == "symmetric") {
    if (!value.is_boolean()) fail(key, "expected true or false, got " + value.dump());
    args.symmetric(value.get<bool>());
  } else if (key == "group_size") {
    args.group_size(null ? std::nullopt : std::optional(read_int(value, key)));
  } else if (key == "strategy") {
    if (!null) {
      args.strategy(
          parse_quantization_strategy(read_string(value, key), "QuantizationArgs.strategy"));
    }
  } else if (key == "block_structure") {
    if (!null) args.block_structure(read_block_structure(value));
  } else if (key == "dynamic") {
    args.dynamic(read_dynamic(value));
  } else if (key == "actorder") {
    args.actorder(read_actorder(value));
  } else if (key == "scale_dtype") {
    args.scale_dtype(read_dtype(value, key));
  } else if (key == "zp_dtype") {
    args.zp_dtype(read_dtype(value, key));
  } else if (key == "observer") {
    args.observer(null ? std::nullopt : std::optional(read_string(value, key)));
  } else if (key == "observer_kwargs") {
    if (!value.is_object()) fail(key, "expected an object, got " + value.dump());
    args.observer_kwargs(value);
  } else {
    fail(key, "unknown key", joined_keys());
  }
}

template <typename T, typename F>
json optional_json(const std::optional<T>& value, F&& convert) {
  return value ? json(convert(*value)) : json(nullptr);
}

}  // namespace

json QuantizationArgs::to_json() const {
  json out = json::object();
  out["num_bits"] = num_bits_;
  out["type"] = to_string(type_);
  out["symmetric"] = symmetric_;
  out["group_size"] = optional_json(group_size_, [](int64_t v) { return v; });
  out["strategy"] = optional_json(strategy_, [](auto v) { return to_string(v); });
  out["block_structure"] = optional_json(block_structure_, [](const auto& v) { return v; });
  out["dynamic"] =
      dynamic_ == DynamicType::Local ? json("local") : json(dynamic_ == DynamicType::Dynamic);
  out["actorder"] = optional_json(actorder_, [](auto v) { return to_string(v); });
  out["scale_dtype"] = optional_json(scale_dtype_, torch_dtype_name);
  // CT's field_serializer drops zp_dtype for symmetric args: zero points are never stored.
  out["zp_dtype"] = symmetric_ ? json(nullptr) : optional_json(zp_dtype_, torch_dtype_name);
  out["observer"] = optional_json(observer_, [](const std::string& v) { return v; });
  out["observer_kwargs"] = observer_kwargs_;
  return out;
}

QuantizationArgs QuantizationArgs::from_json(const json& json_args) {
  if (!json_args.is_object()) {
    throw Error("QuantizationArgs: expected a JSON object, got " + json_args.dump());
  }
  QuantizationArgs args;
  for (const auto& [key, value] : json_args.items()) read_field(args, key, value);
  return args.validated();
}

}  // namespace llmc
