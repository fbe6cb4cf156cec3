#include "dtype_limits.hpp"

#include <llmc/error.hpp>

#include <c10/util/BFloat16.h>
#include <c10/util/Float8_e4m3fn.h>
#include <c10/util/Float8_e5m2.h>
#include <c10/util/Half.h>

#include <limits>
#include <string>

namespace llmc {
namespace {

template <typename T>
FloatLimits limits_of() {
  using L = std::numeric_limits<T>;
  return {static_cast<double>(L::lowest()), static_cast<double>(L::max()),
          static_cast<double>(L::epsilon()), static_cast<double>(L::min())};
}

template <typename T>
IntLimits int_limits_of() {
  using L = std::numeric_limits<T>;
  return {static_cast<int64_t>(L::min()), static_cast<int64_t>(L::max())};
}

}  // namespace

FloatLimits float_limits(c10::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return limits_of<float>();
    case at::kDouble: return limits_of<double>();
    case at::kHalf: return limits_of<c10::Half>();
    case at::kBFloat16: return limits_of<c10::BFloat16>();
    case at::kFloat8_e4m3fn: return limits_of<c10::Float8_e4m3fn>();
    case at::kFloat8_e5m2: return limits_of<c10::Float8_e5m2>();
    default:
      throw Error(std::string("float limits: unsupported dtype ") + c10::toString(dtype) +
                  " (allowed: float32, float64, float16, bfloat16, float8_e4m3fn, float8_e5m2)");
  }
}

IntLimits int_limits(c10::ScalarType dtype) {
  switch (dtype) {
    case at::kByte: return int_limits_of<uint8_t>();
    case at::kChar: return int_limits_of<int8_t>();
    case at::kShort: return int_limits_of<int16_t>();
    case at::kInt: return int_limits_of<int32_t>();
    case at::kLong: return int_limits_of<int64_t>();
    default:
      throw Error(std::string("integer limits: unsupported dtype ") + c10::toString(dtype) +
                  " (allowed: uint8, int8, int16, int32, int64)");
  }
}

}  // namespace llmc
