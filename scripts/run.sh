#!/usr/bin/env bash
# The main job on its built-in default: builds llmc if needed, then quantizes a seeded synthetic
# Llama-shaped model with the W4A16 preset and the memoryless_mse observer, writing a
# compressed-tensors checkpoint to ./llmc-out and printing a summary. Any arguments replace
# the defaults and go to `llmc quantize` (see `build/llmc quantize --help`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LLMC_BUILD_DIR:-$root/build}"
bash "$root/scripts/build.sh" >&2
if (($#)); then
  exec "$build/llmc" quantize "$@"
fi
exec "$build/llmc" quantize --scheme W4A16 --observer memoryless_mse --output "$PWD/llmc-out"
