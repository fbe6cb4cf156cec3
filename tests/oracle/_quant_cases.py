"""Weight quantization cases shared by the qparams, forward and packing oracles.

Every preset's weight args plus hand-made args for the strategies and options presets do not
reach (asymmetric tensor/channel/block, small blocks, scale_dtype rounding, fp8 groups), each
crossed with the dtypes and the awkward weight kinds of _common.make_weight. min/max come from
the flattening and amin/amax of llm-compressor's memoryless min-max observer, the global scale
from its fused-absmax rule (observers/base.py), qparams from compressed-tensors.
"""
import zlib

import torch
from _common import DTYPES, WEIGHT_KINDS, make_weight
from compressed_tensors.quantization import QuantizationArgs
from compressed_tensors.quantization.quant_scheme import PRESET_SCHEMES
from compressed_tensors.quantization.utils import calculate_qparams, generate_gparam
from llmcompressor.observers.helpers import flatten_for_calibration

WEIGHT_PRESETS = [
    "W2A16", "W3A16", "W4A16", "W5A16", "W6A16", "W7A16", "W8A16", "W4A16_ASYM", "W8A8",
    "FP8", "FP8_DYNAMIC", "FP8_BLOCK", "NVFP4A16", "MXFP4A16", "MXFP8A16",
]

CUSTOM_ARGS = {
    "int8_tensor_sym": dict(num_bits=8),
    "int8_tensor_asym": dict(num_bits=8, symmetric=False),
    "int4_channel_asym": dict(num_bits=4, symmetric=False, strategy="channel"),
    "int4_group32_asym": dict(num_bits=4, symmetric=False, group_size=32),
    "int4_group32_fp16scale": dict(num_bits=4, group_size=32, scale_dtype="float16"),
    "int8_block4x8_asym": dict(num_bits=8, symmetric=False, strategy="block", block_structure=[4, 8]),
    "int4_block3x5": dict(num_bits=4, strategy="block", block_structure="3x5"),
    "fp8_group32": dict(num_bits=8, type="float", group_size=32),
    "fp4_group16_fp8scale": dict(num_bits=4, type="float", group_size=16,
                                 scale_dtype="float8_e4m3fn"),
    "fp8_tensor_group16": dict(num_bits=8, type="float", strategy="tensor_group", group_size=16),
}


def args_fields(args):
    """Case fields for args: the JSON dump, plus zp_dtype, which model_dump nulls for symmetric
    args although presets set it (MXFP4/MXFP8 use uint8, inference would give e4m3)."""
    return {"args": args.model_dump(mode="json"), "zp_dtype": str(args.zp_dtype)}


def all_weight_args():
    out = {name: PRESET_SCHEMES[name]["weights"] for name in WEIGHT_PRESETS}
    out.update({name: QuantizationArgs(**kw) for name, kw in CUSTOM_ARGS.items()})
    return out


def shapes_for(args):
    """Two shapes per args: one aligned, one awkward (odd rows, padded blocks)."""
    if args.strategy == "block":
        bh, bw = args.block_structure
        if bh >= 64:
            return [(128, 256), (130, 200)]
        return [(2 * bh, 4 * bw), (2 * bh + 1, 3 * bw + 2)]
    if args.group_size is not None and args.group_size > 0:
        gs = args.group_size
        return [(6, max(2, 256 // gs) * gs), (5, max(3, 384 // gs) * gs)]
    return [(6, 256), (7, 100)]


def kinds_for(args):
    # Big 128x128 blocks: a few kinds keep the oracle files small.
    if args.strategy == "block" and args.block_structure[0] >= 64:
        return ["normal", "outlier_cols", "zero_rows"]
    return WEIGHT_KINDS


def seed_of(*parts) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


def weight_cases():
    """Yields (case dict, weight, args) for every args × dtype × kind × shape."""
    for name, args in all_weight_args().items():
        for dtype_name, dtype in DTYPES.items():
            for kind in kinds_for(args):
                for shape_index, (rows, cols) in enumerate(shapes_for(args)):
                    # The awkward shape only for a subset of kinds: enough coverage, small files.
                    if shape_index == 1 and kind not in ("normal", "outlier_cols", "constant_rows"):
                        continue
                    cid = f"{name}.{dtype_name}.{kind}.{rows}x{cols}"
                    w = make_weight(kind, rows, cols, dtype, seed_of(cid))
                    case = {"id": cid, **args_fields(args), "dtype": dtype_name, "kind": kind,
                            "shape": [rows, cols]}
                    yield case, w, args


def observe(w, args):
    """min/max as the memoryless min-max observer, plus TENSOR_GROUP's global scale inputs."""
    flat = flatten_for_calibration(w, "weight", args)
    min_vals = torch.amin(flat, dim=(0, -1))
    max_vals = torch.amax(flat, dim=(0, -1))
    gmin = gmax = global_scale = None
    if args.strategy == "tensor_group":
        absmax = torch.max(max_vals.max(), -min_vals.min())
        gmin, gmax = -absmax.reshape(1), absmax.reshape(1)
        global_scale = generate_gparam(gmin, gmax)
    return min_vals, max_vals, gmin, gmax, global_scale


def qparams_of(w, args):
    min_vals, max_vals, gmin, gmax, global_scale = observe(w, args)
    scale, zp = calculate_qparams(min_vals, max_vals, args, global_scale=global_scale)
    return dict(min_vals=min_vals, max_vals=max_vals, gparam_min=gmin, gparam_max=gmax,
                global_scale=global_scale, scale=scale, zero_point=zp)
