"""Oracle for QuantizationArgs / QuantizationScheme / presets / QuantizationConfig.

Records, from the pinned compressed-tensors, the JSON it writes (model_dump(mode="json"), which
is what QuantizationConfig.to_dict feeds into config.json) for every preset and for hand-written
args, schemes and configs, and whether it accepts or rejects each invalid input. Kinds:
  preset  {name, scheme}                       scheme dump of preset_name_to_scheme(name, ["Linear"])
  args    {input, dump, zp_dtype, q_min, q_max} accepted args; zp_dtype is the inferred dtype
  verdict {what: args|scheme|config, input, raises, error}
  scheme  {input, dump}
  config  {input, dump, requires_calibration_data}
"""
import json

import torch
from _common import OracleWriter
from compressed_tensors.quantization import (
    QuantizationArgs,
    QuantizationConfig,
    QuantizationScheme,
)
from compressed_tensors.quantization.quant_scheme import PRESET_SCHEMES, preset_name_to_scheme
from compressed_tensors.quantization.utils import calculate_range

VALID_ARGS = [
    {},
    {"num_bits": 4, "group_size": 128},
    {"num_bits": 4, "strategy": "GROUP", "group_size": 32, "symmetric": False},
    {"num_bits": 2, "strategy": "channel", "symmetric": False},
    {"num_bits": 3, "group_size": -1},
    {"num_bits": 16, "symmetric": False},
    {"num_bits": 12},
    {"num_bits": 24, "symmetric": False},
    {"num_bits": 32},
    {"num_bits": 1},
    {"num_bits": 8, "type": "FLOAT"},
    {"num_bits": 4, "type": "float", "strategy": "tensor_group", "group_size": 16},
    {"num_bits": 4, "type": "float", "symmetric": False},
    {"num_bits": 8, "type": "float", "symmetric": False, "strategy": "channel"},
    {"strategy": "block", "block_structure": "2x4"},
    {"strategy": "block", "block_structure": [128, 64], "type": "float"},
    {"strategy": "token", "dynamic": True},
    {"strategy": "tensor", "dynamic": True, "observer": "static_minmax"},
    {"strategy": "tensor_group", "group_size": 16, "dynamic": "LOCAL"},
    {"strategy": "group", "group_size": 64, "dynamic": True},
    {"strategy": "attn_head"},
    {"actorder": "weight", "group_size": 128, "num_bits": 4},
    {"actorder": "weight", "strategy": "channel", "num_bits": 4},
    {"actorder": "static", "group_size": 128, "num_bits": 4},
    {"actorder": False, "group_size": 128},
    {"actorder": None},
    {"scale_dtype": "float8_e4m3fn"},
    {"scale_dtype": "torch.bfloat16", "zp_dtype": "torch.int32", "symmetric": False},
    {"scale_dtype": "torch.uint8", "zp_dtype": "uint8", "type": "float", "num_bits": 4,
     "group_size": 32},
    {"observer": "mse", "observer_kwargs": {"maxshrink": 0.3, "grid": 50, "norm": 2.4}},
    {"observer": "imatrix_mse", "num_bits": 4, "group_size": 128},
    {"strategy": "tensor", "group_size": 0},
    {"strategy": "tensor", "group_size": -1},
    {"num_bits": 4.0},
]

INVALID_ARGS = [
    {"num_bits": 16, "type": "float"},
    {"num_bits": 5, "type": "float"},
    {"num_bits": 9, "type": "float"},
    {"num_bits": 4.5},
    {"group_size": 0},
    {"group_size": -2},
    {"group_size": -1, "strategy": "group"},
    {"strategy": "group"},
    {"strategy": "tensor_group"},
    {"strategy": "channel", "group_size": 128},
    {"strategy": "block", "group_size": 128, "block_structure": [2, 2]},
    {"strategy": "foo"},
    {"type": "foo"},
    {"type": "int4"},
    {"strategy": "block"},
    {"block_structure": [2, 4]},
    {"strategy": "block", "block_structure": "2x4x8"},
    {"strategy": "block", "block_structure": [2, 4, 8]},
    {"strategy": "block", "block_structure": "2xfoo"},
    {"strategy": "block", "block_structure": [0, 4]},
    {"strategy": "block", "block_structure": "4x-1"},
    {"strategy": "token"},
    {"strategy": "channel", "dynamic": True},
    {"strategy": "block", "block_structure": [2, 2], "dynamic": True},
    {"strategy": "attn_head", "dynamic": True},
    {"dynamic": "local"},
    {"strategy": "token", "dynamic": "local"},
    {"dynamic": "true"},
    {"actorder": True, "group_size": 128},
    {"actorder": "group", "group_size": 128},
    {"actorder": "dynamic", "group_size": 128},
    {"actorder": "foo"},
    {"actorder": "WEIGHT"},
    {"scale_dtype": "foo"},
    {"scale_dtype": "torch.Float32"},
    {"zp_dtype": "int9", "symmetric": False},
    {"observer_kwargs": None},
    {"extra": 1},
    {"num_bit": 4},
]

# Accepted by compressed-tensors, rejected by llmc at validation (no storage dtype or range for
# them; upstream fails later or overflows). The C++ test checks both halves of that statement.
LLMC_STRICTER_ARGS = [
    {"num_bits": 0},
    {"num_bits": -3},
    {"num_bits": 33},
    {"num_bits": 64},
    {"num_bits": 16, "type": "float", "zp_dtype": "float16"},
]

ARGS_W4 = {"num_bits": 4, "group_size": 128}
ARGS_DYN_TOKEN = {"num_bits": 8, "strategy": "token", "dynamic": True}

VALID_SCHEMES = [
    {"targets": ["Linear"]},
    {"targets": []},
    {"targets": ["model.layer.0", "re:.*q_proj"], "weights": ARGS_W4},
    {"targets": ["Linear"], "weights": ARGS_W4, "input_activations": ARGS_DYN_TOKEN,
     "output_activations": {"num_bits": 8, "type": "float", "symmetric": False},
     "format": "pack-quantized"},
    {"targets": ["Linear"], "weights": ARGS_W4,
     "input_activations": {"strategy": "group", "group_size": 64, "dynamic": True}},
    {"targets": ["Linear"], "input_activations": {"strategy": "attn_head"},
     "output_activations": {"strategy": "channel"}},
    {"targets": ["Linear"], "weights": {"num_bits": 4, "group_size": 128, "actorder": "weight"},
     "format": "nvfp4-pack-quantized"},
]

# Accepted by compressed-tensors, rejected by llmc (the foundation issue asks for it): per-token
# dynamic scales are an activation scheme; weights are observed once and saved.
LLMC_STRICTER_SCHEMES = [
    {"targets": ["Linear"], "weights": {"strategy": "token", "dynamic": True}},
]

INVALID_SCHEMES = [
    {},
    {"weights": ARGS_W4},
    {"targets": "Linear"},
    {"targets": ["Linear"], "input_activations": {"strategy": "channel"}},
    {"targets": ["Linear"], "input_activations": {"strategy": "block", "block_structure": "2x2"}},
    {"targets": ["Linear"], "input_activations": {"actorder": "weight"}},
    {"targets": ["Linear"], "output_activations": {"actorder": "weight"}},
    {"targets": ["Linear"], "format": "mixed-precision"},
    {"targets": ["Linear"], "format": "int4-quantized"},
    {"targets": ["Linear"], "weights": {"num_bits": 4, "strategy": "group"}},
    {"targets": ["Linear"], "extra": 1},
    {"targets": ["Linear"], "weights": {"strategy": "token"}},
]

VALID_CONFIGS = [
    {"config_groups": {}},
    {"config_groups": {"W4A16": ["Linear"], "fp8_dynamic": ["re:.*mlp.*"]}},
    {"config_groups": {"group_0": {"targets": ["Linear"], "weights": ARGS_W4}},
     "ignore": ["lm_head"], "format": "pack-quantized", "quantization_status": "compressed",
     "global_compression_ratio": 3.5, "version": "0.19.0", "sparsity_config": {},
     "transform_config": {}},
    {"config_groups": {"group_0": {"targets": ["Linear"], "weights": ARGS_W4,
                                   "input_activations": ARGS_DYN_TOKEN}},
     "kv_cache_scheme": {"num_bits": 8, "type": "float", "strategy": "tensor"}},
    {"config_groups": {"group_0": {"targets": ["Linear"],
                                   "weights": dict(ARGS_W4, observer="imatrix_mse")}}},
    {"config_groups": {"group_0": {"targets": ["Linear"], "weights": ARGS_W4}}},
    {"config_groups": {"NVFP4": ["Linear"]}, "quantization_status": "frozen"},
    {"config_groups": {"group_0": {"targets": ["Linear"], "weights": ARGS_W4,
                                   "input_activations": {"num_bits": 8}}}},
    {"config_groups": {"group_0": {"targets": ["Linear"],
                                   "output_activations": {"num_bits": 8, "dynamic": True}}}},
    {"config_groups": {"group_0": {"targets": ["Linear"], "output_activations": {"num_bits": 8}}}},
]

INVALID_CONFIGS = [
    {},
    {"config_groups": {"W5A4": ["Linear"]}},
    {"config_groups": {"group_0": ["Linear"]}},
    {"config_groups": {"group_0": {"targets": ["Linear"], "weights": {"num_bits": "x"}}}},
    {"config_groups": {}, "quantization_status": "done"},
    {"config_groups": {}, "quantization_status": "FROZEN"},
]


def dump(model) -> dict:
    return json.loads(model.model_dump_json())


def verdict(what: str, build, payload) -> dict:
    try:
        build(payload)
        return {"what": what, "input": payload, "raises": False, "error": ""}
    except Exception as e:  # upstream raises ValidationError, ValueError, NotImplementedError
        return {"what": what, "input": payload, "raises": True,
                "error": f"{type(e).__name__}: {str(e).splitlines()[0]}"}


def args_case(payload: dict) -> dict:
    args = QuantizationArgs.model_validate(payload)
    q_min, q_max = calculate_range(args, "cpu")
    return {"input": payload, "dump": dump(args), "zp_dtype": str(args.zp_dtype),
            "q_min": float(q_min), "q_max": float(q_max)}


def config_case(payload: dict) -> dict:
    config = QuantizationConfig.model_validate(payload)
    return {"input": payload, "dump": dump(config),
            "requires_calibration_data": bool(config.requires_calibration_data())}


def main():
    writer = OracleWriter("quant_args")
    for name in PRESET_SCHEMES:
        scheme = preset_name_to_scheme(name, ["Linear"])
        writer.add({"id": f"preset/{name}", "kind": "preset", "name": name, "scheme": dump(scheme)})
    for i, payload in enumerate(VALID_ARGS):
        writer.add({"id": f"args/{i}", "kind": "args", **args_case(payload)})
    checks = [("args", QuantizationArgs.model_validate, VALID_ARGS + INVALID_ARGS),
              ("scheme", QuantizationScheme.model_validate, VALID_SCHEMES + INVALID_SCHEMES),
              ("config", QuantizationConfig.model_validate, VALID_CONFIGS + INVALID_CONFIGS)]
    for what, build, payloads in checks:
        for i, payload in enumerate(payloads):
            writer.add({"id": f"verdict/{what}/{i}", "kind": "verdict", **verdict(what, build, payload)})
    for i, payload in enumerate(LLMC_STRICTER_ARGS):
        writer.add({"id": f"stricter/{i}", "kind": "stricter", **verdict("args", build_args, payload)})
    for i, payload in enumerate(LLMC_STRICTER_SCHEMES):
        writer.add({"id": f"stricter_scheme/{i}", "kind": "stricter_scheme",
                    **verdict("scheme", QuantizationScheme.model_validate, payload)})
    for i, payload in enumerate(VALID_SCHEMES):
        writer.add({"id": f"scheme/{i}", "kind": "scheme", "input": payload,
                    "dump": dump(QuantizationScheme.model_validate(payload))})
    for i, payload in enumerate(VALID_CONFIGS):
        writer.add({"id": f"config/{i}", "kind": "config", **config_case(payload)})
    writer.write()


def build_args(payload):
    return QuantizationArgs.model_validate(payload)


if __name__ == "__main__":
    main()
