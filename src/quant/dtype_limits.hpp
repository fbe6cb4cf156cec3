// torch.finfo / torch.iinfo for the dtypes quantization touches (private to src: quant, observers
// and kernels).
#pragma once

#include <c10/core/ScalarType.h>

#include <cstdint>

namespace llmc {

struct FloatLimits {
  double lowest;  // finfo.min
  double max;     // finfo.max
  double eps;     // finfo.eps
  double tiny;    // finfo.tiny (smallest normal)
};

struct IntLimits {
  int64_t min;
  int64_t max;
};

// Throw llmc::Error for dtypes outside the float / integer families they handle.
FloatLimits float_limits(c10::ScalarType dtype);
IntLimits int_limits(c10::ScalarType dtype);

}  // namespace llmc
