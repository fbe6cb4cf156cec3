// The CPU kernels' per-element error |fake_quantize(x) - x| on MX's float grids
// (quantization_error in src/kernels/grid_search_cpu_group.hpp), in its two forms, and their
// rounding onto those grids, exposed to the tests. Implemented in quantization_errors_avx2.cpp, built with -mavx2 like the AVX2 kernel.
#pragma once

#include <vector>

#include "support/candidate_qparams.hpp"

namespace llmc::test {

enum class KernelFloatGrid { Fp8E4M3, Fp4E2M1 };

// quantization_error<Avx2, weight, error, grid> of every value (a `weight` value held as a float)
// with the scale 2^k (k from -127 to 127), symmetric: the division and the roundings to the
// weight dtype as ATen computes them, or, with `exact_scale`, the kExactScale form (a multiply by
// 2^-k, no roundings to the weight dtype; bf16 and fp32 weights only).
std::vector<float> kernel_mx_quantization_errors(KernelDtype weight, KernelDtype error,
                                                 KernelFloatGrid grid, bool exact_scale, int k,
                                                 const std::vector<float>& values);

// Avx2::round_fp8_e4m3 / round_fp4_e2m1 of every value (each within the grid's range).
std::vector<float> kernel_float_grid_round(KernelFloatGrid grid, const std::vector<float>& values);

}  // namespace llmc::test
