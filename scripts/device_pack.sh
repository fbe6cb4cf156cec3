#!/usr/bin/env bash
# Packs what the GPU checks need into ${LLMC_BUILD_DIR:-build}/device, for a lent device machine
# that has python3 + torch 2.11 (cu130) but no internet and none of our Debian packages:
#   bin/  llmc_tests, llmc_bench_grid_search and llmc_bench_hook_overhead, built here with the
#         CUDA kernels (sm_80, sm_90)
#   lib/  the shared libraries they need that are neither torch's nor glibc's (yaml-cpp,
#         libstdc++, cudart), copied from this machine
# Then, with the device tool: carry build/device (and build/pylib, scripts/device_pylib.sh's
# llm-compressor for an offline python), run `bash scripts/device_check.sh`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LLMC_BUILD_DIR:-$root/build}"
if ! grep -q "^LLMC_WITH_CUDA" "$build/CMakeCache.txt" 2>/dev/null ||
   ! grep -q "grid_search_cuda" "$build/CMakeFiles/llmc.dir/build.make" 2>/dev/null; then
  echo "device_pack: $build has no CUDA kernels; build with nvcc found (scripts/build.sh)" >&2
  exit 1
fi
cmake --build "$build" -j "${LLMC_JOBS:-$(nproc)}" --target llmc_tests llmc_bench_grid_search \
  llmc_bench_hook_overhead
pack="$build/device"
rm -rf "$pack.tmp"
mkdir -p "$pack.tmp/bin" "$pack.tmp/lib"
cp "$build/tests/llmc_tests" "$build/bench/llmc_bench_grid_search" \
  "$build/bench/llmc_bench_hook_overhead" "$pack.tmp/bin/"
# Every resolved dependency outside torch's wheel and glibc's core libraries.
for binary in "$pack.tmp"/bin/*; do
  ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  case "$lib" in
    */site-packages/*) ;;  # torch and its nvidia wheels: the device's own torch provides them
    */libc.so.*|*/libm.so.*|*/libpthread.so.*|*/libdl.so.*|*/librt.so.*|*/libutil.so.*) ;;
    */ld-linux*) ;;
    *) cp -L "$lib" "$pack.tmp/lib/" ;;
  esac
done
rm -rf "$pack"
mv "$pack.tmp" "$pack"
du -sh "$pack"
ls "$pack/lib"
