#!/usr/bin/env bash
# Set up (if needed), configure and build llmc into ${LLMC_BUILD_DIR:-build}.
# Extra arguments go to the CMake configure step (e.g. -DLLMC_WITH_CUDA=OFF).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LLMC_BUILD_DIR:-$root/build}"
bash "$root/scripts/setup.sh"
jobs="${LLMC_JOBS:-$(nproc)}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >"$build.configure.log" 2>&1 || {
  cat "$build.configure.log" >&2
  exit 1
}
cmake --build "$build" -j "$jobs"
