"""Times llm-compressor's own weight observers on tensors written by llmc_bench_observers.

usage: reference_observers.py CASES.json WEIGHTS.safetensors REPEATS OUT.json
Writes one JSON object to OUT.json: {case id: best seconds over REPEATS runs} (a file, not
stdout: llmcompressor logs to stdout on import).
"""
import json
import sys
import time

import torch
from safetensors.torch import load_file
from compressed_tensors.quantization import QuantizationArgs
from llmcompressor.observers import Observer


def main(cases_path, weights_path, repeats, out_path):
    cases = json.load(open(cases_path))
    weights = load_file(weights_path)
    results = {}
    for case in cases:
        args = QuantizationArgs.model_validate(case["args"])
        weight = weights[case["weight"]]
        best = float("inf")
        for _ in range(repeats):
            observer = Observer.load_from_registry(case["observer"], base_name="weight", args=args)
            start = time.perf_counter()
            observer(weight)
            observer.get_qparams()
            best = min(best, time.perf_counter() - start)
        results[case["id"]] = best
    with open(out_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
