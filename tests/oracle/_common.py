"""Shared helpers for the oracle scripts: seeded data, and writing cases for the C++ tests.

Each oracle writes <out>/<name>.json ({"cases": [...]}, every case with a unique "id") and
<out>/<name>.safetensors holding tensors named "<id>.<key>". Data is generated here, seeded, and
results come from the pinned compressed-tensors / llmcompressor packages.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file


class OracleWriter:
    def __init__(self, name: str):
        if len(sys.argv) != 2:
            raise SystemExit(f"usage: {name}.py OUTPUT_DIR")
        self.name = name
        self.out = sys.argv[1]
        self.cases = []
        self.tensors = {}

    def add(self, case: dict, **tensors):
        cid = case["id"]
        if any(c["id"] == cid for c in self.cases):
            raise ValueError(f"duplicate case id {cid}")
        self.cases.append(case)
        for key, value in tensors.items():
            if value is None:
                continue
            self.tensors[f"{cid}.{key}"] = value.detach().contiguous().cpu()

    def write(self):
        os.makedirs(self.out, exist_ok=True)
        tmp_t = os.path.join(self.out, f"{self.name}.safetensors.tmp")
        save_file(self.tensors, tmp_t)
        os.replace(tmp_t, os.path.join(self.out, f"{self.name}.safetensors"))
        tmp_j = os.path.join(self.out, f"{self.name}.json.tmp")
        with open(tmp_j, "w") as f:
            json.dump({"cases": self.cases}, f, indent=1)
        # The json is the completion marker the C++ side looks for: written last.
        os.replace(tmp_j, os.path.join(self.out, f"{self.name}.json"))


DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def make_weight(kind: str, rows: int, cols: int, dtype: torch.dtype, seed: int) -> torch.Tensor:
    """Seeded test weights covering the awkward cases the issue lists."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(rows, cols, generator=g, dtype=torch.float32) * 0.05
    if kind == "outlier_cols":
        w[:, :: max(1, cols // 5)] *= 40.0
    elif kind == "zero_rows":
        w[:: 2] = 0.0
    elif kind == "constant_rows":
        w[:: 2] = 0.37
    elif kind == "tiny":
        w = w * 1e-6
    elif kind == "huge":
        w = w * 1e4
    elif kind == "positive":
        w = w.abs()
    elif kind != "normal":
        raise ValueError(kind)
    return w.to(dtype)


WEIGHT_KINDS = ["normal", "outlier_cols", "zero_rows", "constant_rows", "tiny", "huge", "positive"]
