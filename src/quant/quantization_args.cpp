// QuantizationArgs validation and derived quantities; mirrors compressed-tensors 0.19
// quant_args.py (field validators, then validate_model_after, in upstream's order).
#include <cmath>
#include <llmc/quant/quantization_args.hpp>

#include "field_error.hpp"

namespace llmc {
namespace {

constexpr const char* kStrategiesAllowed =
    "tensor, channel, group, block, token, tensor_group, attn_head";

[[noreturn]] void fail(const std::string& field, const std::string& problem,
                       const std::string& allowed = "") {
  detail::field_error("QuantizationArgs." + field, problem, allowed);
}

// Upstream accepts any int width (and fails later, or silently overflows int32 storage) and
// float widths 4/8 only when it has to infer zp_dtype. We reject at validation what no storage
// dtype can hold: int 1..32 bits (int8/int16/int32 per pytorch_dtype), float 4 (e2m1) or 8
// (e4m3) — the only float formats calculate_range knows.
void check_num_bits(const QuantizationArgs& args) {
  const int64_t bits = args.num_bits();
  if (args.type() == QuantizationType::Int && (bits < 1 || bits > 32)) {
    fail("num_bits", std::to_string(bits) + " out of range for type int", "1..32");
  }
  if (args.type() == QuantizationType::Float && bits != 4 && bits != 8) {
    fail("num_bits", std::to_string(bits) + " out of range for type float", "4, 8");
  }
}

// The field validators: checks that need no other field.
void check_fields(const QuantizationArgs& args) {
  check_num_bits(args);
  if (args.group_size() && *args.group_size() < -1) {
    fail("group_size", "invalid " + std::to_string(*args.group_size()),
         "> 0 for strategy 'group', -1 for 'channel', null");
  }
  if (const auto& block = args.block_structure()) {
    if (block->size() != 2 || (*block)[0] <= 0 || (*block)[1] <= 0) {
      fail("block_structure", "must be two positive ints [rows, cols]", "[R, C] or \"RxC\"");
    }
  }
  if (args.actorder() == ActivationOrdering::Group) {
    fail("actorder", "'group' has been removed upstream (compressed-tensors 0.19)",
         "weight, static, null");
  }
}

QuantizationStrategy infer_strategy(const std::optional<int64_t>& group_size) {
  if (!group_size) return QuantizationStrategy::Tensor;
  if (*group_size > 0) return QuantizationStrategy::Group;
  if (*group_size == -1) return QuantizationStrategy::Channel;
  fail("group_size", "invalid " + std::to_string(*group_size) + " with no strategy",
       "> 0 for strategy 'group', -1 for 'channel', null");
}

bool is_grouped(QuantizationStrategy strategy) {
  return strategy == QuantizationStrategy::Group || strategy == QuantizationStrategy::TensorGroup;
}

void check_group_and_block(const QuantizationArgs& args, QuantizationStrategy strategy) {
  const auto& group_size = args.group_size();
  const bool positive_group = group_size && *group_size > 0;
  if (is_grouped(strategy) && !positive_group) {
    fail("group_size", "strategy " + to_string(strategy) + " requires a positive group_size",
         "> 0");
  }
  if (positive_group && !is_grouped(strategy)) {
    fail("strategy", "group_size " + std::to_string(*group_size) + " requires strategy group",
         "group, tensor_group");
  }
  const bool block_strategy = strategy == QuantizationStrategy::Block;
  if (block_strategy && !args.block_structure()) {
    fail("block_structure", "strategy block requires block_structure", "[R, C] or \"RxC\"");
  }
  if (!block_strategy && args.block_structure()) {
    fail("strategy", "block_structure requires strategy block", "block");
  }
}

void check_token(DynamicType dynamic, QuantizationStrategy strategy) {
  if (strategy == QuantizationStrategy::Token && dynamic == DynamicType::Static) {
    fail("dynamic", "static token quantization is impossible; strategy token requires dynamic",
         "true, \"local\"");
  }
}

void check_dynamic(DynamicType dynamic, QuantizationStrategy strategy) {
  if (dynamic == DynamicType::Static) return;
  if (strategy != QuantizationStrategy::Token && strategy != QuantizationStrategy::Tensor &&
      !is_grouped(strategy)) {
    fail("strategy", to_string(strategy) + " cannot be used for dynamic quantization",
         "token, tensor, tensor_group, group");
  }
  if (dynamic == DynamicType::Local && strategy != QuantizationStrategy::TensorGroup) {
    fail("dynamic", "\"local\" is only supported for strategy tensor_group", "true, false");
  }
}

}  // namespace

QuantizationArgs QuantizationArgs::validated() const {
  check_fields(*this);
  QuantizationArgs out = *this;
  const QuantizationStrategy strategy = strategy_ ? *strategy_ : infer_strategy(group_size_);
  check_token(dynamic_, strategy);
  check_group_and_block(*this, strategy);
  check_dynamic(dynamic_, strategy);
  out.strategy_ = strategy;
  if (!out.zp_dtype_) {
    out.zp_dtype_ = is_fp4() ? c10::ScalarType::Float8_e4m3fn : pytorch_dtype();
  }
  return out;
}

double QuantizationArgs::q_max() const {
  if (type_ == QuantizationType::Int) {
    check_num_bits(*this);
    return std::ldexp(1.0, static_cast<int>(num_bits_ - 1)) - 1.0;
  }
  if (num_bits_ == 8) return 448.0;  // torch.finfo(float8_e4m3fn).max
  if (num_bits_ == 4) return 6.0;    // largest e2m1 magnitude
  fail("num_bits", std::to_string(num_bits_) + " out of range for type float", "4, 8");
}

double QuantizationArgs::q_min() const {
  if (type_ == QuantizationType::Int) {
    check_num_bits(*this);
    return -std::ldexp(1.0, static_cast<int>(num_bits_ - 1));
  }
  return -q_max();
}

// Upstream raises for fp4 here; its values travel as floats until nvfp4/mxfp4 packing, which
// is what kFloat says to callers allocating a quantized tensor.
c10::ScalarType QuantizationArgs::pytorch_dtype() const {
  check_num_bits(*this);
  if (type_ == QuantizationType::Float) {
    return num_bits_ == 8 ? c10::ScalarType::Float8_e4m3fn : c10::ScalarType::Float;
  }
  if (num_bits_ <= 8) return c10::ScalarType::Char;
  if (num_bits_ <= 16) return c10::ScalarType::Short;
  return c10::ScalarType::Int;
}

// should_generate_mx_scales in CT utils/mxfp_utils.py.
bool QuantizationArgs::is_mx() const {
  return type_ == QuantizationType::Float && (num_bits_ == 4 || num_bits_ == 8) &&
         group_size_ == 32 && scale_dtype_ == c10::ScalarType::Byte;
}

bool QuantizationArgs::operator==(const QuantizationArgs& other) const {
  return num_bits_ == other.num_bits_ && type_ == other.type_ && symmetric_ == other.symmetric_ &&
         group_size_ == other.group_size_ && strategy_ == other.strategy_ &&
         block_structure_ == other.block_structure_ && dynamic_ == other.dynamic_ &&
         actorder_ == other.actorder_ && scale_dtype_ == other.scale_dtype_ &&
         zp_dtype_ == other.zp_dtype_ && observer_ == other.observer_ &&
         observer_kwargs_ == other.observer_kwargs_;
}

std::ostream& operator<<(std::ostream& os, const QuantizationArgs& args) {
  return os << "QuantizationArgs" << args.to_json().dump();
}

}  // namespace llmc
