"""Times llm-compressor's memoryless_mse and imatrix_mse observers on tensors written by
llmc_bench_grid_search.

usage: reference_grid_search.py CASES.json TENSORS.safetensors REPEATS OUT.json [DEVICE]
Each case names a weight and, for imatrix_mse, an importance vector (E[x^2] per input column,
installed as the observer's _imatrix_sum with _imatrix_count 1). Writes {case id: best seconds
over REPEATS rounds of all cases} to OUT.json (llmcompressor logs to stdout on import). DEVICE
(default cpu) is where the tensors live during timing; on cuda the clock stops after
torch.cuda.synchronize().
"""
import json
import sys
import time

import torch
from safetensors.torch import load_file
from compressed_tensors.quantization import QuantizationArgs
from llmcompressor.observers import Observer


def run_once(case, args, weight, importance, device):
    observer = Observer.load_from_registry(case["observer"], base_name="weight", args=args)
    if importance is not None:
        observer._imatrix_sum = importance.clone()
        observer._imatrix_count = torch.tensor(1, dtype=torch.int64, device=importance.device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    observer(weight)
    observer.get_qparams()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main(cases_path, tensors_path, repeats, out_path, device_name="cpu"):
    device = torch.device(device_name)
    cases = json.load(open(cases_path))
    tensors = {name: t.to(device) for name, t in load_file(tensors_path).items()}
    results = {}
    # One untimed run first, so that the first case does not also pay for torch's warm-up.
    if cases:
        first = cases[0]
        run_once(first, QuantizationArgs.model_validate(first["args"]), tensors[first["weight"]],
                 tensors[first["importance"]] if first.get("importance") else None, device)
    # Best of `repeats` rounds over every case (as llmc_bench_grid_search times its own), so
    # that a slow spell of the machine costs one round rather than all of a case's runs.
    for _ in range(repeats):
        for case in cases:
            args = QuantizationArgs.model_validate(case["args"])
            importance = tensors[case["importance"]] if case.get("importance") else None
            seconds = run_once(case, args, tensors[case["weight"]], importance, device)
            results[case["id"]] = min(results.get(case["id"], seconds), seconds)
    with open(out_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], *sys.argv[5:6])
