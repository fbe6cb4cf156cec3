"""Oracle: compressed-tensors quantize / dequantize / fake_quantize and dynamic qparams.

- weight cases (see _quant_cases): inputs weight, scale, zero_point, global_scale (CT qparams);
  expected qdq = fake_quantize, q = quantize into the compressor's dtype (int8 / fp8 / float
  for fp4), dq = dequantize(q).
- g_idx cases: columns permuted by argsort(g_idx) into group order, quantized, permuted back
  (compressed-tensors' activation-order path before 0.19 removed it; GPTQ relies on it).
- dynamic activation cases: every preset's dynamic input args on 2-D and 3-D activations;
  expected compute_dynamic_scales_and_zp and fake_quantize.
- attn_head: static per-head qparams from the attention flattening, then fake_quantize.
- golden: LC test_lifecycle's arange(24).reshape(4, 6) bf16 matrices.
"""
import torch
from _common import DTYPES, OracleWriter, make_weight
from _quant_cases import args_fields, qparams_of, seed_of, weight_cases
from compressed_tensors.quantization import QuantizationArgs
from compressed_tensors.quantization.lifecycle.forward import dequantize, fake_quantize, quantize
from compressed_tensors.quantization.quant_scheme import PRESET_SCHEMES
from compressed_tensors.quantization.utils import (
    calculate_qparams,
    compute_dynamic_scales_and_zp,
    generate_gparam,
)
from llmcompressor.observers.helpers import flatten_for_calibration


def storage_dtype(args):
    """What the compressors pass to quantize: int8 for ints, e4m3 for fp8, float for fp4."""
    if args.type == "int":
        return torch.int8
    return torch.float8_e4m3fn if args.num_bits == 8 else None


def qdq_all(w, args, q):
    scale, zp, gs = q["scale"], q["zero_point"], q["global_scale"]
    qdq = fake_quantize(w, scale, zp, args, global_scale=gs)
    qv = quantize(w, scale, zp, args, dtype=storage_dtype(args), global_scale=gs)
    dq = dequantize(qv, scale, zp, args, global_scale=gs)
    return dict(qdq=qdq, q=qv, dq=dq)


def add_weight_cases(out):
    for case, w, args in weight_cases():
        q = qparams_of(w, args)
        out.add(dict(case, kind_of_case="weight"), weight=w, scale=q["scale"],
                zero_point=q["zero_point"], global_scale=q["global_scale"], **qdq_all(w, args, q))


def add_g_idx_cases(out):
    for name in ("W4A16", "W4A16_ASYM", "NVFP4A16", "MXFP4A16"):
        args = PRESET_SCHEMES[name]["weights"]
        for dtype_name in ("float32", "bfloat16"):
            cid = f"g_idx.{name}.{dtype_name}"
            rows, cols = 6, 256
            w = make_weight("outlier_cols", rows, cols, DTYPES[dtype_name], seed_of(cid))
            g = torch.Generator().manual_seed(seed_of(cid, "perm"))
            g_idx = (torch.arange(cols) // args.group_size)[torch.randperm(cols, generator=g)]
            g_idx = g_idx.to(torch.int32)
            perm = torch.argsort(g_idx)
            inverse = torch.argsort(perm)
            w_grouped = w[:, perm]
            q = qparams_of(w_grouped, args)
            expected = {k: v[:, inverse] for k, v in qdq_all(w_grouped, args, q).items()}
            out.add({"id": cid, "kind_of_case": "g_idx", **args_fields(args)},
                    weight=w, g_idx=g_idx, scale=q["scale"], zero_point=q["zero_point"],
                    global_scale=q["global_scale"], **expected)


DYNAMIC_ARGS = {
    "W8A8.input": PRESET_SCHEMES["W8A8"]["input_activations"],
    "W4A4.input": PRESET_SCHEMES["W4A4"]["input_activations"],
    "FP8_DYNAMIC.input": PRESET_SCHEMES["FP8_DYNAMIC"]["input_activations"],
    "FP8_BLOCK.input": PRESET_SCHEMES["FP8_BLOCK"]["input_activations"],
    "NVFP4.input": PRESET_SCHEMES["NVFP4"]["input_activations"],
    "MXFP4.input": PRESET_SCHEMES["MXFP4"]["input_activations"],
    "int8_tensor_asym_dynamic": QuantizationArgs(num_bits=8, symmetric=False, dynamic=True),
    "int8_token_asym_dynamic": QuantizationArgs(num_bits=8, symmetric=False, strategy="token",
                                                dynamic=True),
    "fp8_tensor_dynamic": QuantizationArgs(num_bits=8, type="float", dynamic=True),
}


def add_dynamic_cases(out):
    for name, args in DYNAMIC_ARGS.items():
        for dtype_name, dtype in DTYPES.items():
            for shape in ((2, 5, 256), (10, 256)):
                cid = f"dynamic.{name}.{dtype_name}.{'x'.join(map(str, shape))}"
                x = make_weight("outlier_cols", shape[0] * (shape[1] if len(shape) == 3 else 1),
                                shape[-1], dtype, seed_of(cid)).reshape(shape) * 20
                gs = None
                if args.strategy == "tensor_group":
                    gs = generate_gparam(x.amin().reshape(1), x.amax().reshape(1))
                scale, zp = compute_dynamic_scales_and_zp(x, args, module=None, global_scale=gs)
                qdq = fake_quantize(x, scale, zp, args, global_scale=gs)
                out.add({"id": cid, "kind_of_case": "dynamic", **args_fields(args)},
                        input=x, global_scale=gs, scale=scale, zero_point=zp, qdq=qdq)


def add_attn_head_cases(out):
    for name, args in {
        "fp8_attn_head": QuantizationArgs(num_bits=8, type="float", strategy="attn_head"),
        "int8_attn_head_asym": QuantizationArgs(num_bits=8, symmetric=False, strategy="attn_head"),
    }.items():
        for dtype_name, dtype in DTYPES.items():
            cid = f"attn_head.{name}.{dtype_name}"
            x = make_weight("outlier_cols", 2 * 4 * 6, 32, dtype, seed_of(cid)).reshape(2, 4, 6, 32)
            flat = flatten_for_calibration(x, "k", args)
            min_vals, max_vals = torch.amin(flat, dim=(0, -1)), torch.amax(flat, dim=(0, -1))
            scale, zp = calculate_qparams(min_vals, max_vals, args)
            out.add({"id": cid, "kind_of_case": "attn_head", **args_fields(args)},
                    input=x, min_vals=min_vals, max_vals=max_vals, scale=scale, zero_point=zp,
                    qdq=fake_quantize(x, scale, zp, args))


GOLDEN_ARGS = {
    "tensor": QuantizationArgs(num_bits=4, strategy="tensor"),
    "channel": QuantizationArgs(num_bits=4, strategy="channel"),
    "group3": QuantizationArgs(num_bits=4, strategy="group", group_size=3),
    "tensor_group_fp4": QuantizationArgs(num_bits=4, type="float", strategy="tensor_group",
                                         group_size=3, scale_dtype="float8_e4m3fn"),
    "block2x3": QuantizationArgs(num_bits=4, strategy="block", block_structure=[2, 3]),
}


def add_golden_cases(out):
    w = torch.arange(24, dtype=torch.bfloat16).reshape(4, 6)
    for name, args in GOLDEN_ARGS.items():
        q = qparams_of(w, args)
        out.add({"id": f"golden.{name}", "kind_of_case": "golden",
                 **args_fields(args)},
                weight=w.clone(), scale=q["scale"], zero_point=q["zero_point"],
                global_scale=q["global_scale"], **qdq_all(w, args, q))


def main():
    out = OracleWriter("forward")
    add_weight_cases(out)
    add_g_idx_cases(out)
    add_dynamic_cases(out)
    add_attn_head_cases(out)
    add_golden_cases(out)
    out.write()


if __name__ == "__main__":
    main()
