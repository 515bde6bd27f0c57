#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite:
#   1. release build, all tests through ctest (as the invoking user; root in CI);
#   2. the same test binaries as an unprivileged user (created here when run as root), so
#      rootless behaviour (memlock limits, user namespaces) is tested too;
#   3. an ASan + UBSan build, all tests through ctest;
#   4. every libFuzzer target of tests/fuzz for 30 s (scripts/fuzz.sh; clang, ASan + UBSan).
# Exits non-zero on any failure. GHOSTPOD_SKIP_ASAN=1 skips step 3 and GHOSTPOD_SKIP_FUZZ=1
# step 4 for a quick local run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scripts/install-deps.sh
scripts/build.sh release

echo "== tests (release, as $(id -un))"
ctest --test-dir build -j 2 --output-on-failure

if [[ $(id -u) -eq 0 ]]; then
  user=ghostpod-ci
  id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
  # The checkout may sit under a directory the user cannot enter: run copies from a scratch dir.
  scratch=$(mktemp -d /tmp/ghostpod-ci-XXXXXX)
  trap 'rm -rf "$scratch"' EXIT
  cp build/ghostpod build/tests/ghostpod_unit_tests build/tests/ghostpod_integration_tests "$scratch/"
  mkdir -p "$scratch/man" "$scratch/completions" "$scratch/tests/support"
  cp README.md "$scratch/"  # the threat-model test compares its Protects list with the [threat] tests
  cp man/* "$scratch/man/"
  cp completions/* "$scratch/completions/"
  cp tests/support/read_vault_spec.py tests/support/fake_infisical.py tests/support/fake_vault.py tests/support/make_tazpod.py "$scratch/tests/support/"
  chown -R "$user:$user" "$scratch"
  echo "== tests (release, as unprivileged user $user)"
  for t in ghostpod_unit_tests ghostpod_integration_tests; do
    runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$user" TMPDIR=/tmp \
      GHOSTPOD_TEST_BINARY="$scratch/ghostpod" GHOSTPOD_TEST_SOURCE_DIR="$scratch" \
      "$scratch/$t" --reporter compact
  done
else
  echo "== not root: the unprivileged pass above is the rootless run"
fi

if [[ ${GHOSTPOD_SKIP_ASAN:-0} != 1 ]]; then
  scripts/build.sh asan
  echo "== tests (ASan + UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan -j 2 --output-on-failure
fi
if [[ ${GHOSTPOD_SKIP_FUZZ:-0} != 1 ]]; then
  echo "== fuzzing (libFuzzer, ASan + UBSan, 30 s per target)"
  scripts/fuzz.sh 30
fi
echo "== all test passes finished"
