"""Checks a checkpoint written by `llmc quantize` against compressed-tensors itself.

usage: _check_checkpoint.py ORIGINAL.safetensors CHECKPOINT_DIR

For every quantized module, compressed-tensors' own compressor is run on the original weight and
the qparams we stored (decoded back to the weight dtype exactly), and every tensor it produces
must be bit-identical to ours; our checkpoint must also decompress through compressed-tensors and
parse as its QuantizationConfig. Exits non-zero with a message on the first mismatch.
"""
import json
import sys

import torch
from safetensors.torch import load_file
from compressed_tensors.compressors import BaseCompressor
from compressed_tensors.compressors.pack_quantized.helpers import unpack_from_int32
from compressed_tensors.compressors.mx_utils import decompress_mx_scale
from compressed_tensors.quantization import QuantizationConfig


def fail(msg):
    print(f"checkpoint check FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def bit_equal(a, b):
    # clone(): compressed-tensors may return odd strides on size-1 dims, which view() rejects.
    as_bytes = lambda t: t.clone(memory_format=torch.contiguous_format).reshape(-1).view(torch.uint8)
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(as_bytes(a), as_bytes(b))


def main(original_path, out_dir):
    original = load_file(original_path)
    ours = load_file(f"{out_dir}/model.safetensors")
    with open(f"{out_dir}/config.json") as f:
        config = json.load(f)
    qc_json = config["quantization_config"]
    for key in ("version", "quant_method", "sparsity_config", "transform_config", "format"):
        if key not in qc_json:
            fail(f"quantization_config lacks '{key}'")
    if qc_json["quantization_status"] != "compressed":
        fail("quantization_status is not 'compressed'")
    qc = QuantizationConfig.model_validate(qc_json)
    scheme = qc.config_groups["group_0"]
    fmt = scheme.format
    if fmt != qc.format:
        fail(f"group format {fmt} != model format {qc.format}")
    compressor = BaseCompressor.get_value_from_registry(fmt)
    modules = sorted(k[: -len(".weight_scale")] for k in ours if k.endswith(".weight_scale"))
    if not modules:
        fail("no quantized module in checkpoint")
    for name in modules:
        weight = original[f"{name}.weight"]
        if f"{name}.weight" in ours and fmt == "pack-quantized":
            fail(f"{name}: dense weight left next to weight_packed")
        stored = {k[len(name) + 1:]: v for k, v in ours.items() if k.startswith(name + ".")}
        state = {"weight": weight}
        scale = stored["weight_scale"]
        if fmt in ("mxfp4-pack-quantized", "mxfp8-quantized"):
            scale = decompress_mx_scale(scale)
        state["weight_scale"] = scale.to(weight.dtype)
        if "weight_global_scale" in stored:
            state["weight_global_scale"] = stored["weight_global_scale"]
        if "weight_zero_point" in stored:
            zp = stored["weight_zero_point"]
            if fmt == "pack-quantized" and zp.dtype == torch.int32:
                shape = (weight.shape[0], zp.shape[1])
                zp = unpack_from_int32(zp, scheme.weights.num_bits, torch.Size(shape), packed_dim=0)
            state["weight_zero_point"] = zp
        expected = compressor.compress(state, scheme)
        if sorted(expected) != sorted(stored):
            fail(f"{name}: tensors {sorted(stored)} != compressed-tensors' {sorted(expected)}")
        for key, value in expected.items():
            if not bit_equal(stored[key], value):
                fail(f"{name}.{key}: differs from compressed-tensors ({stored[key].dtype} "
                     f"{tuple(stored[key].shape)} vs {value.dtype} {tuple(value.shape)})")
        decompressed = compressor.decompress(stored, scheme)["weight"]
        if decompressed.shape != weight.shape or not torch.isfinite(decompressed).all():
            fail(f"{name}: decompression through compressed-tensors failed")
    ignored = set(qc.ignore or [])
    for key in original:
        if key.endswith(".weight") and key[: -len(".weight")] not in modules:
            if key not in ours or not bit_equal(ours[key], original[key]):
                fail(f"unquantized tensor {key} was not copied unchanged")
    print(f"checkpoint ok: {len(modules)} modules, format {fmt}, ignore {sorted(ignored)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
