// Single IEEE float operations, rounded to nearest, for code compiled both for the host and by
// nvcc (the fused grid search's element arithmetic and its CUDA lane sums). On the device they
// are the __f*_rn intrinsics, which nvcc never fuses with a neighbour: the .cu builds with
// -fmad=true, as ATen's kernels do, and for fp32 nothing else would stop max*p - min*p from
// becoming one fma. On the host, the CPU kernels' ISA files compile with -ffp-contract=off and
// the others without FMA instructions.
//
//   float range = llmc::kernels::sub_rn(llmc::kernels::mul_rn(max, p), llmc::kernels::mul_rn(min, p));
#pragma once

#if defined(__CUDACC__)
#define LLMC_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define LLMC_HOST_DEVICE inline
#endif

namespace llmc::kernels {

LLMC_HOST_DEVICE float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

LLMC_HOST_DEVICE float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

LLMC_HOST_DEVICE float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

LLMC_HOST_DEVICE float div_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

}  // namespace llmc::kernels
