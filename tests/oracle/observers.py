"""Oracle: llm-compressor's own observers (memoryless_minmax, static_minmax, minmax,
memoryless_mse, mse, nvfp4_expanded_mse, fouroversix) on seeded weights, activation sequences,
attention states and a fused q/k/v NVFP4 group.

Every case records the observed tensors, min_vals / max_vals after each observation (before
get_qparams) and the final scale / zero_point / global_scale. Args are stored as CT JSON
(model_dump) with the observer kwargs inside, exactly what the C++ side loads.
"""
import warnings

import torch
from _common import DTYPES, WEIGHT_KINDS, OracleWriter, make_weight
from compressed_tensors.quantization import QuantizationArgs
from llmcompressor.observers import Observer
from llmcompressor.observers.fusion import FusionHandler
from llmcompressor.observers.helpers import flatten_for_calibration
from llmcompressor.observers.imatrix import _grid_search as imatrix_grid_search

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

W = OracleWriter("observers")

# name → QuantizationArgs kwargs; weights are (8, 64) except BLOCK, which uses (10, 40) so the
# [4, 16] blocks need zero padding in both dimensions.
WEIGHT_ARGS = {
    "tensor_int8_sym": dict(num_bits=8, strategy="tensor", symmetric=True),
    "tensor_int8_asym": dict(num_bits=8, strategy="tensor", symmetric=False),
    "channel_int4_sym": dict(num_bits=4, strategy="channel", symmetric=True),
    "channel_int4_asym": dict(num_bits=4, strategy="channel", symmetric=False),
    "group_int4_sym": dict(num_bits=4, strategy="group", group_size=16, symmetric=True),
    "group_int4_asym": dict(num_bits=4, strategy="group", group_size=16, symmetric=False),
    "channel_fp8": dict(num_bits=8, type="float", strategy="channel", symmetric=True),
    "block_fp8": dict(num_bits=8, type="float", strategy="block", block_structure=[4, 16],
                      symmetric=True),
    "block_int8_asym": dict(num_bits=8, strategy="block", block_structure=[4, 16],
                            symmetric=False),
    "nvfp4": dict(num_bits=4, type="float", strategy="tensor_group", group_size=16,
                  symmetric=True, scale_dtype=torch.float8_e4m3fn,
                  zp_dtype=torch.float8_e4m3fn),
    "mxfp4": dict(num_bits=4, type="float", strategy="group", group_size=32, symmetric=True,
                  scale_dtype=torch.uint8),
}

# observer → list of kwargs variants; the first is the defaults and runs on every weight kind.
OBSERVER_KWARGS = {
    "memoryless_minmax": [{}],
    "static_minmax": [{}],
    "minmax": [{}],
    "memoryless_mse": [{}, {"maxshrink": 0.5, "grid": 40}, {"norm": 2.0}, {"norm": 1.0},
                       {"patience": 0}, {"patience": 1, "maxshrink": 0.6},
                       {"expand": 1.5, "maxshrink": 0.5}, {"grid": 37, "maxshrink": 0.3}],
    "mse": [{}, {"averaging_constant": 0.5}, {"patience": 0, "norm": 3.0}],
    "nvfp4_expanded_mse": [{}, {"patience": 3}],
    "fouroversix": [{}],
}
VARIANT_KINDS = ["normal", "outlier_cols", "constant_rows"]


def weight_shape(args_name):
    return (10, 40) if args_name.startswith("block") else (8, 64)


def make_args(spec, kwargs, observer):
    return QuantizationArgs(**spec, observer=observer, observer_kwargs=dict(kwargs))


def stat_tensors(obs, index):
    return {f"min{index}": obs.min_vals.clone(), f"max{index}": obs.max_vals.clone()}


def run_case(cid, observer, base_name, args, observations, extra):
    args_json = args.model_dump(mode="json")
    obs = Observer.load_from_registry(observer, base_name=base_name, args=args)
    tensors = {}
    for i, x in enumerate(observations):
        obs(x)
        tensors[f"x{i}"] = x
        tensors.update(stat_tensors(obs, i))
    q = obs.get_qparams()
    tensors.update(scale=q["scale"], zero_point=q["zero_point"],
                   global_scale=q["global_scale"])
    W.add(dict(id=cid, observer=observer, base_name=base_name, args=args_json,
               observations=len(observations), **extra), **tensors)


def weight_cases():
    seed = 0
    for observer, variants in OBSERVER_KWARGS.items():
        for vi, kwargs in enumerate(variants):
            kinds = WEIGHT_KINDS if vi == 0 else VARIANT_KINDS
            for args_name, spec in WEIGHT_ARGS.items():
                if observer in ("nvfp4_expanded_mse", "fouroversix") and vi > 0 \
                        and args_name not in ("nvfp4", "group_int4_asym"):
                    continue
                rows, cols = weight_shape(args_name)
                for kind in kinds:
                    for dname, dtype in DTYPES.items():
                        seed += 1
                        w = make_weight(kind, rows, cols, dtype, seed)
                        cid = f"w.{observer}.v{vi}.{args_name}.{kind}.{dname}"
                        run_case(cid, observer, "weight", make_args(spec, kwargs, observer),
                                 [w], dict(kind=kind, dtype=dname))


ACT_ARGS = {
    "tensor_int8_asym": dict(num_bits=8, strategy="tensor", symmetric=False),
    "tensor_fp8": dict(num_bits=8, type="float", strategy="tensor", symmetric=True),
    "group_int8_sym": dict(num_bits=8, strategy="group", group_size=16, symmetric=True),
    "nvfp4": dict(num_bits=4, type="float", strategy="tensor_group", group_size=16,
                  symmetric=True, scale_dtype=torch.float8_e4m3fn,
                  zp_dtype=torch.float8_e4m3fn),
}
ACT_OBSERVERS = {
    "memoryless_minmax": {}, "static_minmax": {}, "minmax": {},
    "minmax_c0.1": {"averaging_constant": 0.1}, "minmax_c1": {"averaging_constant": 1.0},
    "mse": {}, "mse_c0.2": {"averaging_constant": 0.2, "maxshrink": 0.4},
    "memoryless_mse": {},
}


def activation_sequence(dtype, seed, shape):
    g = torch.Generator().manual_seed(seed)
    xs = []
    for i in range(3):
        x = torch.randn(*shape, generator=g) * (0.5 + i)
        x[..., 3] += 4.0 * (i - 1)  # a drifting outlier channel moves min and max
        xs.append(x.to(dtype))
    return xs


def activation_cases():
    seed = 10_000
    for label, kwargs in ACT_OBSERVERS.items():
        observer = label.split("_c")[0]
        for args_name, spec in ACT_ARGS.items():
            for dname, dtype in DTYPES.items():
                seed += 1
                xs = activation_sequence(dtype, seed, (2, 5, 32))
                cid = f"a.{label}.{args_name}.{dname}"
                run_case(cid, observer, "input", make_args(spec, kwargs, observer), xs,
                         dict(dtype=dname))
    attn_args = {
        "tensor_int8_asym": dict(num_bits=8, strategy="tensor", symmetric=False),
        "attn_head_fp8": dict(num_bits=8, type="float", strategy="attn_head", symmetric=True),
    }
    for observer in ("static_minmax", "minmax", "memoryless_mse"):
        for args_name, spec in attn_args.items():
            for dname, dtype in DTYPES.items():
                seed += 1
                xs = activation_sequence(dtype, seed, (2, 4, 6, 8))
                cid = f"k.{observer}.{args_name}.{dname}"
                run_case(cid, observer, "k", make_args(spec, {}, observer), xs,
                         dict(dtype=dname))


def fused_cases():
    """q/k/v NVFP4 with linked observers: observing q lazily observes k and v."""
    seed = 20_000
    for observer in ("memoryless_minmax", "memoryless_mse", "nvfp4_expanded_mse"):
        for dname, dtype in DTYPES.items():
            seed += 1
            modules, observers = [], []
            for j, kind in enumerate(["normal", "outlier_cols", "tiny"]):
                lin = torch.nn.Linear(64, 8, bias=False)
                lin.weight.data = make_weight(kind, 8, 64, dtype, seed * 10 + j)
                modules.append(lin)
                args = make_args(WEIGHT_ARGS["nvfp4"], {}, observer)
                observers.append(Observer.load_from_registry(observer, base_name="weight",
                                                             args=args))
            FusionHandler.fuse(zip(observers, modules))
            args_json = observers[0].args.model_dump(mode="json")
            observers[0](modules[0].weight)
            tensors = {}
            observed_after_first = [o.has_statistics for o in observers]
            for j, (o, m) in enumerate(zip(observers, modules)):
                tensors[f"w{j}"] = m.weight.data
                tensors[f"min{j}"] = o.min_vals.clone()
                tensors[f"max{j}"] = o.max_vals.clone()
            has_stats_after = []
            for j, o in enumerate(observers):
                q = o.get_qparams()
                tensors[f"scale{j}"] = q["scale"]
                tensors[f"zero_point{j}"] = q["zero_point"]
                tensors[f"global_scale{j}"] = q["global_scale"]
                has_stats_after.append([x.has_statistics for x in observers])
            W.add(dict(id=f"fused.{observer}.{dname}", observer=observer, args=args_json,
                       dtype=dname, observed_after_first=observed_after_first,
                       has_stats_after_get_qparams=has_stats_after), **tensors)


# imatrix.py::_grid_search (the loop the later imatrix_mse observer runs): S+1 candidates, fp32
# error, patience 0 = never stop, optional importance prepared as _prepare_importance does.
IMATRIX_SEARCH = [
    dict(maxshrink=0.95, patience=5, grid=20, norm=3.0, expand=1.0),
    dict(maxshrink=0.95, patience=0, grid=20, norm=3.0, expand=1.0),
    dict(maxshrink=0.2, patience=5, grid=20, norm=2.4, expand=1.0),
    dict(maxshrink=1 - 0.8 / 1.8, patience=1000, grid=200, norm=2.4, expand=1.8),
    dict(maxshrink=0.0, patience=5, grid=20, norm=3.0, expand=1.0),
]


def imatrix_search_cases():
    seed = 30_000
    for args_name in ("channel_int4_sym", "group_int4_asym", "nvfp4", "mxfp4"):
        spec = WEIGHT_ARGS[args_name]
        for si, search in enumerate(IMATRIX_SEARCH):
            for weighted in (False, True):
                for kind in ("normal", "outlier_cols"):
                    for dname, dtype in DTYPES.items():
                        seed += 1
                        args = QuantizationArgs(**spec)
                        w = make_weight(kind, 8, 64, dtype, seed)
                        observed = flatten_for_calibration(w, "weight", args)
                        imp = None
                        if weighted:
                            g = torch.Generator().manual_seed(seed)
                            raw = torch.rand(64, generator=g) ** 4 * 100
                            raw = raw / (raw.mean() + torch.finfo(torch.float32).tiny)
                            imp = flatten_for_calibration(raw.unsqueeze(0).expand(8, -1),
                                                          "weight", args)
                        mn, mx = imatrix_grid_search(observed, args, search["maxshrink"],
                                                     search["patience"], search["grid"],
                                                     search["norm"], expand=search["expand"],
                                                     importance_weights=imp)
                        cid = f"g.{args_name}.s{si}.{'imp' if weighted else 'uniform'}.{kind}.{dname}"
                        W.add(dict(id=cid, args=args.model_dump(mode="json"), search=search),
                              observed=observed, importance=imp, min=mn, max=mx)


weight_cases()
imatrix_search_cases()
activation_cases()
fused_cases()
W.write()
