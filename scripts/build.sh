#!/usr/bin/env bash
# Configures and builds one variant: release (build/), asan (build-asan/, ASan + UBSan) or
# fuzz (build-fuzz/: clang, vault/ and the pod/ files the fuzz targets reach with ASan + UBSan
# + libFuzzer coverage, and the libFuzzer targets of tests/fuzz; scripts/fuzz.sh runs them),
# everything or the targets named after it. Warnings are errors in all three. GHOSTPOD_BUILD_JOBS caps parallel jobs (default:
# all cores); ccache is used when installed. asan also compiles the test-only fault points
# (GHOSTPOD_FAULT_INJECTION, see vault/fault.hpp); release never does. release is the shipped
# build (-O2 -g); asan and fuzz compile at -O1 with line tables only; the tests' own code is
# -Og -g1 in every variant (tests/CMakeLists.txt).
# Usage: scripts/build.sh [release|asan|fuzz] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
variant=${1:-release}
shift || true
targets=()
for t in "$@"; do targets+=(--target "$t"); done
case $variant in
  release) dir=build; extra=() ;;
  # asan and fuzz: -O1 with line tables, as the sanitizer and libFuzzer documents advise: -O2 -g
  # takes twice as long to compile under ASan, and the reports need only file and line.
  asan) dir=build-asan; extra=(-DGHOSTPOD_SANITIZE=ON -DGHOSTPOD_BENCH=OFF -DGHOSTPOD_FAULT_INJECTION=ON
                               "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG") ;;
  fuzz)
    dir=build-fuzz
    # The fuzz variant builds only what tests/fuzz links: clang's libFuzzer runtime
    # replaces Catch2's main, and the unit tests already run under ASan in build-asan/.
    extra=(-DCMAKE_CXX_COMPILER=clang++ -DGHOSTPOD_FUZZ=ON -DGHOSTPOD_TESTS=OFF
           -DGHOSTPOD_BENCH=OFF "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")
    ((${#targets[@]})) || targets=(--target fuzz_targets)
    ;;
  *) echo "usage: scripts/build.sh [release|asan|fuzz]" >&2; exit 2 ;;
esac
if command -v ccache >/dev/null 2>&1; then extra+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$root" -B "$root/$dir" -G Ninja -DGHOSTPOD_WERROR=ON -DGHOSTPOD_TESTS=ON "${extra[@]}" >/dev/null
cmake --build "$root/$dir" -j "${GHOSTPOD_BUILD_JOBS:-$(nproc)}" "${targets[@]}"
if [[ $variant == fuzz ]]; then echo "build: $root/$dir/tests/fuzz/"; else echo "build: $root/$dir/ghostpod"; fi
