#!/usr/bin/env bash
# Builds llmc (running the set-up first when needed) and runs the whole test suite with CTest
# in parallel: Python oracles run first as fixtures, then every Catch2 case.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LLMC_BUILD_DIR:-$root/build}"
bash "$root/scripts/build.sh"
ctest --test-dir "$build" -j "${LLMC_JOBS:-$(nproc)}" --output-on-failure --timeout 900
