// Rounding onto FP8 E4M3's and FP4 E2M1's grids as one add and one subtract of a magic number:
// the constants of the CPU policies' round_fp8_e4m3 / round_fp4_e2m1 (grid_search_cpu_avx2.hpp,
// grid_search_cpu_avx512.cpp). Plain C++ only, like grid_search_problem.hpp.
//
// c10's float -> Float8_e4m3fn and compressed-tensors' cast_to_fp4 (its bucket bounds and tie
// rules, LC §6.5) both round to the nearest grid value, ties to even: FP8 keeps 3 mantissa bits
// with steps of 2^-9 below 2^-6, FP4 1 mantissa bit with steps of 1/2 below 1. The kernels only
// round magnitudes up to the grid's largest value (448, 6): every caller clamps first. For such
// a v, with e = max(v's exponent, the grid's smallest normal exponent) and m mantissa bits,
// c = 1.5 * 2^(e + 23 - m) is a float whose ulp, 2^(e - m), is the grid's step at v, and
// |v| < 2^(e + 1) keeps v + c inside c's binade. So the float add rounds v to that step, half to
// even (c is an even multiple of the step), and subtracting c back is exact. c's bits are v's
// exponent field, raised to the smallest normal one, plus a constant.
//
// The result is the grid value, except that a zero is +0 where the conversions keep a negative
// v's sign. No error depends on that sign: a zero times the scale is a zero, and zero - x is -x
// for either zero when x != 0, and +0 for either when x is a zero.
#pragma once

#include <cstdint>

namespace llmc::kernels {

// (smallest normal exponent + 127) << 23, and ((23 - m) << 23) | (1 << 22) (the 1.5).
constexpr int32_t kFp8E4M3LowestExponentField = (127 - 6) << 23;
constexpr int32_t kFp8E4M3MagicOffset = ((23 - 3) << 23) | (1 << 22);
constexpr int32_t kFp4E2M1LowestExponentField = 127 << 23;
constexpr int32_t kFp4E2M1MagicOffset = ((23 - 1) << 23) | (1 << 22);

}  // namespace llmc::kernels
