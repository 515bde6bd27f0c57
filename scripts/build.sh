#!/usr/bin/env bash
# Configures and builds one variant: release (build/) or asan (build-asan/, ASan + UBSan),
# everything or the targets named after it. Warnings are errors in both.
# asan also compiles the test-only fault points (GHOSTPOD_FAULT_INJECTION, see vault/fault.hpp);
# release never does. GHOSTPOD_JOBS caps the parallel jobs.
# Usage: scripts/build.sh [release|asan] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
variant=${1:-release}
shift || true
targets=()
for t in "$@"; do targets+=(--target "$t"); done
case $variant in
  release) dir=build; extra=() ;;
  asan) dir=build-asan; extra=(-DGHOSTPOD_SANITIZE=ON -DGHOSTPOD_BENCH=OFF -DGHOSTPOD_FAULT_INJECTION=ON) ;;
  *) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$root" -B "$root/$dir" -G Ninja "${launcher[@]}" -DGHOSTPOD_WERROR=ON -DGHOSTPOD_TESTS=ON "${extra[@]}" >/dev/null
cmake --build "$root/$dir" -j "${GHOSTPOD_JOBS:-$(nproc)}" "${targets[@]}"
echo "build: $root/$dir/ghostpod"
