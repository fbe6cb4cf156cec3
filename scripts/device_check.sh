#!/usr/bin/env bash
# The GPU checks, on a lent device machine, from the binaries scripts/device_pack.sh put in
# build/device (carried there): the CUDA equivalence tests, the GPU grid search benchmark with
# its roofline columns (llmc's fused kernel against llmc's LibTorch reference loop and against
# llm-compressor's observers, from build/pylib when the device's python lacks them; n/a where
# neither has them; once more against llm-compressor's eager path), then the importance hooks'
# overhead on a GPU forward. Writes gpu.txt, tests.txt (tests_full.txt), bench.txt,
# bench_eager.txt and hooks.txt under ${OUT:-.}. BENCH_ARGS adds options
# to the benchmark (e.g. --quick).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pack="${LLMC_DEVICE_PACK:-$root/build/device}"
pylib="${LLMC_DEVICE_PYLIB:-$root/build/pylib}"
out="${OUT:-.}"
python="${PYTHON:-python3}"
if [[ ! -x "$pack/bin/llmc_tests" ]]; then
  echo "device_check: $pack/bin/llmc_tests missing; run scripts/device_pack.sh and carry build/device" >&2
  exit 1
fi
torch_lib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')" || {
  echo "device_check: $python cannot import torch" >&2
  exit 1
}
export LD_LIBRARY_PATH="$pack/lib:$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
status=0
{
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem,driver_version --format=csv
  "$python" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)'
} 2>&1 | tee "$out/gpu.txt"

echo "== CUDA tests"
"$pack/bin/llmc_tests" "CUDA*" --success --reporter compact >"$out/tests_full.txt" 2>&1
[[ $? -eq 0 ]] || status=1
grep -v "^.*passed: " "$out/tests_full.txt" | tail -n 60 | tee "$out/tests.txt"
grep -c "passed: " "$out/tests_full.txt" | sed 's/^/passed assertions: /' | tee -a "$out/tests.txt"

echo "== GPU grid search benchmark"
if ! "$python" -c "import llmcompressor, compressed_tensors" >/dev/null 2>&1 && [[ -f "$pylib/pythonpath.sh" ]]; then
  PYTHONPATH="$(PYTHON="$python" bash "$pylib/pythonpath.sh")"
  export PYTHONPATH
  echo "(llm-compressor from $pylib: PYTHONPATH=$PYTHONPATH)"
fi
reference=(--python "$python" --reference-script "$root/bench/reference_grid_search.py")
if ! "$python" -c "import llmcompressor, compressed_tensors" >"$out/import.txt" 2>&1; then
  echo "($python cannot import llmcompressor: the llm-compressor columns are skipped)"
  tail -n 5 "$out/import.txt"
  reference=(--no-reference)
fi
# shellcheck disable=SC2086
"$pack/bin/llmc_bench_grid_search" --device cuda "${reference[@]}" --repeats 3 --check ${BENCH_ARGS:-} \
  2>&1 | tee "$out/bench.txt"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
if [[ ${reference[0]} != --no-reference ]]; then
  # On CUDA, llm-compressor's memoryless_mse / mse / nvfp4_expanded_mse run its Triton search
  # (another algorithm: per-group buffered patience); CT_ENFORCE_EAGER=1 times its eager torch
  # loop, the one llmc's observers reproduce. imatrix_mse has no Triton path.
  echo "== the same against llm-compressor's eager path (CT_ENFORCE_EAGER=1)"
  # shellcheck disable=SC2086
  CT_ENFORCE_EAGER=1 "$pack/bin/llmc_bench_grid_search" --device cuda "${reference[@]}" \
    --no-llmc-reference --repeats 3 ${BENCH_ARGS:-} 2>&1 | tee "$out/bench_eager.txt"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
fi

echo "== importance hook overhead on the GPU"
for dtype in bfloat16 float32; do
  "$pack/bin/llmc_bench_hook_overhead" --device cuda --dtype "$dtype" --seq 2048 --repeats 9 \
    2>&1 | tee -a "$out/hooks.txt"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
done
exit $status
