// The CPU kernels' per-element error |fake_quantize(x) - x| (quantization_error in
// src/kernels/grid_search_cpu_group.hpp) on MX's float grids in its two forms, and their rounding
// onto those grids, and on bf16 weights' int grids in its two forms, exposed to the tests.
// Implemented in quantization_errors_avx2.cpp, built with -mavx2 like the AVX2 kernel.
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

// The int grids of kernel_int_quantization_errors: int4 through its level table (the group
// layout's), int8 through the rounding and dequantization ops.
enum class KernelIntGrid { Int4Levels, Int8 };

// quantization_error<Avx2, bf16, error, grid> of every value (a bf16 value held as a float)
// under `scale` (a bf16 value) and `zero_point` (0 for the symmetric grids): the division as ATen
// computes it, or, with `reciprocal`, the multiply by the scale's reciprocal (has_reciprocal_form;
// only for the scales reciprocal_applies accepts, else std::invalid_argument).
std::vector<float> kernel_int_quantization_errors(KernelDtype error, KernelIntGrid grid,
                                                  bool symmetric, bool reciprocal, float scale,
                                                  float zero_point,
                                                  const std::vector<float>& values);

// Avx2::round_fp8_e4m3 / round_fp4_e2m1 of every value (each within the grid's range).
std::vector<float> kernel_float_grid_round(KernelFloatGrid grid, const std::vector<float>& values);

}  // namespace llmc::test
