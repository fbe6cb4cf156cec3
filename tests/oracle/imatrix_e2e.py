"""Oracle: llm-compressor's IMatrixMSEObserver end to end on a two-layer MLP, and on its own.

"model": the seeded data every e2e case shares — fc1 (128, 64) and fc2 (64, 128) weights and
four calibration batches (2, 6, 64) whose input channels span 1e-2..1e1 plus a few outliers,
all fp32 (the C++ side casts them as this script does).

"e2e.<case>.<dtype>": the model fc1 → relu → fc2 (bias-free) cast to dtype, an imatrix_mse
weight observer attached to each Linear (upstream's attach: forward-pre hook), every batch
forwarded under no_grad, detach, observe the weight, get_qparams. Per layer it records the
raw Σx² and token count, get_qparams' output ("<layer>.raw.*") and the qparams as
update_qparams leaves them in the module's parameters (scale in the weight dtype: "<layer>.*"),
plus the module-form qparams of memoryless_mse and memoryless_minmax on the same weight and the
errors each gives. `config_groups` is the recipe's QuantizationModifier config.

"upstream.<label>": test_imatrix.py's seeded nn.Linear(8, 4) weight and importance (count 1)
with the qparams upstream's test compares and the reference ones (memoryless_mse grid 20, or
the unweighted imatrix search), and whether upstream finds them equal.

"obs.<observer>.<args>.<kwargs>.<importance>.<dtype>": one imatrix_mse (or
nvfp4_expanded_imatrix) weight observer given `_imatrix_sum` / `_imatrix_count` directly
(no hook), then get_qparams; fallback importances (none, zero count, negative, NaN, wrong length)
run the unweighted search. "uniform.*" is memoryless_mse with `uniform_kwargs`, and
`same_as_uniform` whether upstream's allclose / equal finds them the same.
"""
import copy
import warnings

import torch
from _common import DTYPES, OracleWriter
from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme
from compressed_tensors.quantization.lifecycle.forward import fake_quantize
from compressed_tensors.quantization.lifecycle.initialize import (
    initialize_module_for_quantization,
)
from llmcompressor.observers import Observer

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

W = OracleWriter("imatrix_e2e")

FP8 = torch.float8_e4m3fn
NVFP4 = dict(num_bits=4, type="float", strategy="tensor_group", group_size=16, symmetric=True,
             scale_dtype=FP8, zp_dtype=FP8)

# case → (weights args without observer, imatrix_mse observer_kwargs, preset naming the same
# weights, for a `scheme:` recipe).
E2E_CASES = {
    "channel_int8_sym": (dict(num_bits=8, strategy="channel", symmetric=True), {}, None),
    "group32_int4_sym": (dict(num_bits=4, strategy="group", group_size=32, symmetric=True), {},
                         None),
    "group32_int4_asym": (dict(num_bits=4, strategy="group", group_size=32, symmetric=False), {},
                          None),
    "group32_int4_sym_kwargs": (dict(num_bits=4, strategy="group", group_size=32,
                                     symmetric=True), {"norm": 2.4, "maxshrink": 0.7}, None),
    "nvfp4": (NVFP4, {}, "NVFP4A16"),
}
E2E_DTYPES = ("float32", "bfloat16")
LAYERS = ("fc1", "fc2")


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(64, 128, bias=False)
        self.fc2 = torch.nn.Linear(128, 64, bias=False)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def heavy_tailed(rows, cols, std, g):
    """Gaussian weights with ~2% entries six times larger, so shrinking the range pays off."""
    w = torch.randn(rows, cols, generator=g) * std
    w[torch.rand(rows, cols, generator=g) < 0.02] *= 6.0
    return w


def model_data():
    g = torch.Generator().manual_seed(2024)
    w1 = heavy_tailed(128, 64, 64 ** -0.5, g)
    w2 = heavy_tailed(64, 128, 128 ** -0.5, g)
    channel_scale = torch.logspace(-2, 1, 64)[torch.randperm(64, generator=g)]
    channel_scale[[5, 21, 47]] = 30.0  # outlier channels, as in LLM activations
    batches = [torch.randn(2, 6, 64, generator=g) * channel_scale for _ in range(4)]
    W.add(dict(id="model", batches=len(batches)), w1=w1, w2=w2,
          **{f"x{i}": x for i, x in enumerate(batches)})
    return w1, w2, batches


def weights_args(spec, observer, kwargs):
    return QuantizationArgs(**spec, observer=observer, observer_kwargs=dict(kwargs))


def module_qparams(weight, args, q):
    """update_qparams: each qparam copied into the parameter CT registered (its dtype kept)."""
    lin = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    lin.weight.data = weight.clone()
    initialize_module_for_quantization(lin, QuantizationScheme(targets=["Linear"], weights=args))
    for name, value in q.items():
        if value is not None:
            getattr(lin, f"weight_{name}").data.copy_(value)
    return {name: getattr(lin, f"weight_{name}").data.clone()
            for name in ("scale", "zero_point", "global_scale") if hasattr(lin, f"weight_{name}")}


def memoryless_qparams(observer, weight, spec):
    args = weights_args(spec, observer, {})
    obs = Observer.load_from_registry(observer, base_name="weight", args=args)
    obs(weight)
    return module_qparams(weight, args, obs.get_qparams())


def qdq(weight, qp, args):
    return fake_quantize(weight, qp["scale"], qp["zero_point"], args,
                         global_scale=qp.get("global_scale"))


def weighted_error(weight, qp, args, importance):
    """Σ_c importance_c Σ_r (W_rc - Q_rc)², fp64."""
    diff = (qdq(weight, qp, args).double() - weight.double()) ** 2
    return float((diff.sum(0) * importance.double()).sum())


def output_error(model, batches, qweights):
    """Σ over batches of ||f_q(x) - f(x)||², fp64, quantized weights in place of the originals."""
    total = 0.0
    with torch.no_grad():
        for x in batches:
            h = torch.relu(torch.nn.functional.linear(x, qweights["fc1"]))
            yq = torch.nn.functional.linear(h, qweights["fc2"])
            total += float(((yq.double() - model(x).double()) ** 2).sum())
    return total


def e2e_case(name, spec, kwargs, preset, dname, w1, w2, batches):
    dtype = DTYPES[dname]
    model = MLP()
    model.fc1.weight.data = w1.to(dtype)
    model.fc2.weight.data = w2.to(dtype)
    xs = [x.to(dtype) for x in batches]
    layers = {"fc1": model.fc1, "fc2": model.fc2}
    observers = {}
    for layer, lin in layers.items():
        args = weights_args(spec, "imatrix_mse", kwargs)
        observers[layer] = Observer.load_from_registry("imatrix_mse", base_name="weight",
                                                       args=args)
        observers[layer].attach(lin)
    with torch.no_grad():
        for x in xs:
            model(x)

    tensors, counts, errors, qweights = {}, {}, {}, {k: {} for k in ("imatrix", "mse", "minmax")}
    for layer, lin in layers.items():
        obs = observers[layer]
        obs.detach(lin)
        assert lin._forward_pre_hooks == {}, "detach left a hook"
        imp_sum, imp_count = obs._imatrix_sum.clone(), int(obs._imatrix_count)
        counts[layer] = imp_count
        tensors[f"{layer}.imatrix_sum"] = imp_sum
        weight = lin.weight.data
        args = copy.deepcopy(obs.args)
        obs(weight)
        raw = obs.get_qparams()
        assert not obs.has_statistics
        by_observer = {
            "imatrix": module_qparams(weight, args, raw),
            "mse": memoryless_qparams("memoryless_mse", weight, spec),
            "minmax": memoryless_qparams("memoryless_minmax", weight, spec),
        }
        for key, value in raw.items():
            if value is not None:
                tensors[f"{layer}.raw.{key}"] = value
        importance = imp_sum / imp_count
        errors[layer] = {}
        for label, qp in by_observer.items():
            prefix = f"{layer}." if label == "imatrix" else f"{layer}.{label}."
            tensors.update({prefix + k: v for k, v in qp.items()})
            errors[layer][label] = weighted_error(weight, qp, args, importance)
            qweights[label][layer] = qdq(weight, qp, args)
    output_errors = {label: output_error(model, xs, qw) for label, qw in qweights.items()}
    # The claims the C++ test repeats: the model's output error, and the importance-weighted
    # weight error summed over both layers, are lowest with imatrix_mse. (Per layer it need not
    # be: on fc2's mild importance, int8 channel keeps the full range where memoryless_mse's
    # finer, unweighted grid shrinks it.)
    summed = {label: sum(errors[layer][label] for layer in LAYERS) for label in qweights}
    for totals in (output_errors, summed):
        assert totals["imatrix"] < min(totals["mse"], totals["minmax"]), (name, dname, totals)

    config_groups = {"group_0": {
        "targets": ["Linear"],
        "weights": {k: v for k, v in weights_args(spec, "imatrix_mse", kwargs)
                    .model_dump(mode="json").items() if v is not None}}}
    W.add(dict(id=f"e2e.{name}.{dname}", case=name, dtype=dname, config_groups=config_groups,
               preset=preset, observer_kwargs=kwargs, layers=list(LAYERS),
               imatrix_count=counts, weighted_errors=errors, output_errors=output_errors),
          **tensors)


# Observer-level cases: a (16, 64) weight with heavy-tailed rows, importance given directly.
OBS_ARGS = {
    "channel_int4_sym": dict(num_bits=4, strategy="channel", symmetric=True),
    "group16_int4_asym": dict(num_bits=4, strategy="group", group_size=16, symmetric=False),
    "group16_int8_sym": dict(num_bits=8, strategy="group", group_size=16, symmetric=True),
    "nvfp4": NVFP4,
}
# label → (imatrix kwargs, kwargs of the memoryless_mse it is compared with, if any).
OBS_KWARGS = {
    "default": ({}, None),
    "patience0": ({"patience": 0}, None),
    "expand": ({"expand": 1.25, "maxshrink": 0.5, "grid": 40}, None),
    "mse_like": ({"maxshrink": 0.2, "grid": 20, "norm": 2.4}, {"grid": 20}),
}
# importance label → (sum, count) builder; None sum = never attached.
IMPORTANCE = ("skewed", "ones", "missing", "zero_count", "negative", "wrong_length", "nan")


def importance_of(label, g, cols):
    if label == "skewed":
        return torch.rand(cols, generator=g) ** 4 * 100 * 37, 37
    if label == "ones":
        return torch.full((cols,), 37.0), 37
    if label == "missing":
        return None, 0
    if label == "zero_count":
        return torch.rand(cols, generator=g), 0
    if label == "negative":
        s = torch.rand(cols, generator=g)
        s[3] = -1.0
        return s, 5
    if label == "wrong_length":
        return torch.rand(cols + 8, generator=g), 5
    if label == "nan":
        s = torch.rand(cols, generator=g)
        s[7] = float("nan")
        return s, 5
    raise ValueError(label)


def observer_case(observer, args_name, kw_label, imp_label, dname, seed):
    spec = OBS_ARGS[args_name]
    kwargs, mse_kwargs = OBS_KWARGS[kw_label]
    g = torch.Generator().manual_seed(seed)
    weight = heavy_tailed(16, 64, 0.05, g).to(DTYPES[dname])
    imp_sum, imp_count = importance_of(imp_label, g, 64)
    args = weights_args(spec, observer, kwargs)
    args_json = args.model_dump(mode="json")
    obs = Observer.load_from_registry(observer, base_name="weight", args=args)
    if imp_sum is not None:
        obs._imatrix_sum = imp_sum.clone()
        obs._imatrix_count = torch.tensor(imp_count, dtype=torch.int64)
    obs(weight)
    q = obs.get_qparams()
    tensors = dict(weight=weight, imatrix_sum=imp_sum, scale=q["scale"],
                   zero_point=q["zero_point"], global_scale=q["global_scale"])
    case = dict(id=f"obs.{observer}.{args_name}.{kw_label}.{imp_label}.{dname}",
                observer=observer, args=args_json, zp_dtype=str(args.zp_dtype),
                importance=imp_label, imatrix_count=imp_count)
    if mse_kwargs is not None:
        # upstream's claim for all-ones importance: the same qparams as memoryless_mse
        uobs = Observer.load_from_registry(
            "memoryless_mse", base_name="weight",
            args=weights_args(spec, "memoryless_mse", mse_kwargs))
        uq = uobs(weight).get_qparams()
        tensors.update({f"uniform.{k}": v for k, v in uq.items()})
        case.update(uniform_kwargs=mse_kwargs, same_as_uniform=bool(
            torch.allclose(q["scale"].float(), uq["scale"].float())
            and torch.equal(q["zero_point"].float(), uq["zero_point"].float())))
    W.add(case, **tensors)


def observer_cases():
    seed = 40_000
    for args_name in OBS_ARGS:
        for kw_label in OBS_KWARGS:
            imps = IMPORTANCE if kw_label == "default" else ("skewed", "ones")
            for imp_label in imps:
                for dname in DTYPES:
                    seed += 1
                    observer_case("imatrix_mse", args_name, kw_label, imp_label, dname, seed)
    for imp_label in ("skewed", "ones", "missing"):
        for dname in DTYPES:
            seed += 1
            observer_case("nvfp4_expanded_imatrix", "nvfp4", "default", imp_label, dname, seed)


def upstream_observer(weight, importance, strategy="channel", **kwargs):
    """test_imatrix.py's _make_observer + _set_importance (count 1), observed and finalised."""
    args = QuantizationArgs(num_bits=4, symmetric=True, strategy=strategy,
                            observer="imatrix_mse", observer_kwargs=kwargs)
    obs = Observer.load_from_registry("imatrix_mse", base_name="weight", args=args)
    if importance is not None:
        obs._imatrix_sum = importance.clone()
        obs._imatrix_count = torch.tensor(1, dtype=torch.int64)
    return obs(weight).get_qparams()


def upstream_mse(weight):
    args = QuantizationArgs(num_bits=4, symmetric=True, strategy="channel",
                            observer="memoryless_mse", observer_kwargs={"grid": 20})
    return Observer.load_from_registry("memoryless_mse", base_name="weight",
                                       args=args)(weight).get_qparams()


def upstream_cases():
    """The data of LC tests/llmcompressor/observers/test_imatrix.py (seeded nn.Linear(8, 4))."""
    torch.manual_seed(123)
    weight = torch.nn.Linear(8, 4).weight.data.clone()
    cases = {
        # all-ones importance, norm 2.4, maxshrink 0.2 == memoryless_mse(grid=20)
        "ones_mse_like": (torch.ones(8), dict(norm=2.4, maxshrink=0.20), "mse"),
        # 1000 vs 0.01 importance changes the scales against the unweighted search
        "skewed": (torch.tensor([1000.0] * 4 + [0.01] * 4), {}, "no_importance"),
        # invalid importance falls back (non-strict) and matches memoryless_mse(grid=20)
        "nan": (torch.tensor([1.0, float("nan")] + [1.0] * 6), {}, "mse"),
        "negative": (torch.tensor([1.0, -1.0] + [1.0] * 6), {}, "mse"),
        "zeros": (torch.zeros(8), {}, "mse"),
    }
    for label, (importance, kwargs, reference) in cases.items():
        q = upstream_observer(weight, importance, **kwargs)
        if reference == "mse":
            r = upstream_mse(weight)
        else:
            r = upstream_observer(weight, None)
        same = bool(torch.allclose(q["scale"], r["scale"])
                    and torch.equal(q["zero_point"], r["zero_point"]))
        assert same == (reference == "mse"), (label, q, r)
        W.add(dict(id=f"upstream.{label}", observer_kwargs=kwargs, reference=reference,
                   same_as_reference=same),
              weight=weight.clone(), importance=importance, scale=q["scale"],
              zero_point=q["zero_point"], reference_scale=r["scale"],
              reference_zero_point=r["zero_point"])


def main():
    upstream_cases()
    w1, w2, batches = model_data()
    for name, (spec, kwargs, preset) in E2E_CASES.items():
        for dname in E2E_DTYPES:
            e2e_case(name, spec, kwargs, preset, dname, w1, w2, batches)
    observer_cases()
    W.write()


main()
