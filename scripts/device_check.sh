#!/usr/bin/env bash
# The GPU checks, on a lent device machine, from the binaries scripts/device_pack.sh put in
# build/device (carried there): the CUDA equivalence tests, then the GPU grid search benchmark
# with its roofline columns (llmc's fused kernel against llmc's LibTorch reference loop; the
# llm-compressor column is n/a where its Python packages are missing). Writes tests.txt and
# bench.txt under ${OUT:-.}. BENCH_ARGS adds options to the benchmark (e.g. --quick).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pack="${LLMC_DEVICE_PACK:-$root/build/device}"
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
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1 | tee "$out/gpu.txt"
echo "== CUDA tests"
"$pack/bin/llmc_tests" "CUDA*" --success --reporter compact 2>&1 | tail -n 40 | tee "$out/tests.txt"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
echo "== GPU grid search benchmark"
reference=(--python "$python" --reference-script "$root/bench/reference_grid_search.py")
if ! "$python" -c "import llmcompressor, compressed_tensors" >/dev/null 2>&1; then
  echo "($python has no llmcompressor: the llm-compressor columns are skipped)"
  reference=(--no-reference)
fi
# shellcheck disable=SC2086
"$pack/bin/llmc_bench_grid_search" --device cuda "${reference[@]}" --repeats 3 ${BENCH_ARGS:-} \
  2>&1 | tee "$out/bench.txt"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
exit $status
