#!/usr/bin/env bash
# Configures and builds one variant: release (build/) or asan (build-asan/, ASan + UBSan),
# everything or the targets named after it. Warnings are errors in both.
# Usage: scripts/build.sh [release|asan] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
variant=${1:-release}
shift || true
targets=()
for t in "$@"; do targets+=(--target "$t"); done
case $variant in
  release) dir=build; extra=() ;;
  asan) dir=build-asan; extra=(-DGHOSTPOD_SANITIZE=ON -DGHOSTPOD_BENCH=OFF) ;;
  *) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
cmake -S "$root" -B "$root/$dir" -G Ninja -DGHOSTPOD_WERROR=ON -DGHOSTPOD_TESTS=ON "${extra[@]}" >/dev/null
cmake --build "$root/$dir" -j "$(nproc)" "${targets[@]}"
echo "build: $root/$dir/ghostpod"
