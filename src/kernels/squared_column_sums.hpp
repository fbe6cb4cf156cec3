// The importance hook's Σx² over a CPU activation's leading dims in one pass (private to
// src): reads x once, squares each value in fp32 and adds it in the order ATen's cascade_sum
// gives `x.float().pow(2).sum(leading dims)`, so the result is bit-identical to upstream's
// three ops (convert, square, reduce) without their two intermediate tensors.
#pragma once

#include <ATen/ATen.h>

namespace llmc::kernels {

// Whether squared_column_sums_cpu reproduces ATen for `x`: a contiguous CPU fp32/bf16/fp16
// tensor of at least 2 dims, at least one row and 2 columns, on an x86 build whose sum kernel
// this file replays. Everything else keeps the ATen ops.
bool squared_column_sums_applies(const at::Tensor& x);

// x.float().pow(2).sum(every dim but the last), as an fp32 tensor of x.size(-1) values.
at::Tensor squared_column_sums_cpu(const at::Tensor& x);

}  // namespace llmc::kernels
