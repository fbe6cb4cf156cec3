"""Oracle: compressed-tensors calculate_qparams / generate_gparam / rounding helpers.

Weight cases (see _quant_cases): inputs min_vals, max_vals (and gparam_min/max for
tensor_group); expected scale, zero_point, global_scale. Plus the golden vectors of LC
reference §6.2, round_to_quantized_type_dtype over edge values, cast_to_fp4 and the MX
exponent helpers.
"""
import torch
from _common import DTYPES, OracleWriter
from _quant_cases import args_fields, qparams_of, weight_cases
from compressed_tensors.quantization import QuantizationArgs
from compressed_tensors.quantization.quant_args import (
    round_to_quantized_type_args,
    round_to_quantized_type_dtype,
)
from compressed_tensors.quantization.utils import calculate_qparams, calculate_range
from compressed_tensors.quantization.utils.fp4_utils import cast_to_fp4
from compressed_tensors.quantization.utils.mxfp_utils import generate_mx_scales, round_to_power_2


def edge_values(dtype):
    g = torch.Generator().manual_seed(7)
    special = torch.tensor([0.0, -0.0, 0.25, -0.25, 0.5, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, -5.0,
                            5.01, 6.5, -7.0, 0.124, 127.5, -128.5, 126.5, 300.0, -1000.0, 448.0,
                            449.0, 464.0, 1e-9, 1e30, -1e30, 65504.0, 2.5e-3, 0.0625])
    return torch.cat([special, torch.randn(200, generator=g) * 8]).to(dtype)


def add_weight_cases(w):
    for case, weight, args in weight_cases():
        q = qparams_of(weight, args)
        case = dict(case, kind_of_case="weight")
        w.add(case, **q)


def add_golden(w):
    # LC test_min_max: observing [1, 1, 1, 1, 1] gives min = max = 1.
    ones = torch.ones(1)
    for sym in (True, False):
        args = QuantizationArgs(num_bits=8, symmetric=sym)
        scale, zp = calculate_qparams(ones, ones, args)
        w.add({"id": f"golden.int8_ones.{'sym' if sym else 'asym'}", "kind_of_case": "golden",
               **args_fields(args)},
              min_vals=torch.ones(1), max_vals=torch.ones(1), scale=scale, zero_point=zp)


def add_rounding_cases(w):
    for dtype_name, dtype in DTYPES.items():
        x = edge_values(dtype)
        w.add({"id": f"round.{dtype_name}", "kind_of_case": "rounding", "dtype": dtype_name},
              input=x,
              to_fp8=round_to_quantized_type_dtype(x, torch.float8_e4m3fn, False),
              to_int8=round_to_quantized_type_dtype(x, torch.int8, False),
              to_uint8=round_to_quantized_type_dtype(x, torch.uint8, False),
              to_fp8_back=round_to_quantized_type_dtype(x, torch.float8_e4m3fn),
              cast_fp4=cast_to_fp4(x.clone()),
              pow2=round_to_power_2(x.abs()),
              mx4=generate_mx_scales(x.abs(), 4),
              mx8=generate_mx_scales(x.abs(), 8))
        for name, args in {"int4": QuantizationArgs(num_bits=4),
                           "int8": QuantizationArgs(num_bits=8),
                           "fp8": QuantizationArgs(num_bits=8, type="float"),
                           "fp4": QuantizationArgs(num_bits=4, type="float", group_size=16)}.items():
            q_min, q_max = calculate_range(args, x.device)
            w.add({"id": f"round_args.{name}.{dtype_name}", "kind_of_case": "round_args",
                   **args_fields(args)},
                  input=x.clone(), output=round_to_quantized_type_args(x, args, q_min, q_max))


def main():
    w = OracleWriter("qparams")
    add_weight_cases(w)
    add_golden(w)
    add_rounding_cases(w)
    w.write()


if __name__ == "__main__":
    main()
