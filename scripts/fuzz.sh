#!/usr/bin/env bash
# Builds the fuzz variant (scripts/build.sh fuzz: clang, libFuzzer, ASan + UBSan) and runs every
# libFuzzer target of tests/fuzz for SECONDS each (default 60) on a temporary copy of its seed
# corpus, tests/fuzz/corpus/<target>/, which is never modified. Exits non-zero when any target
# crashes, leaks, times out on an input or runs out of memory, naming the target and the saved
# input (kept under the artifact directory printed at the end).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 30 vault dotenv
#   GHOSTPOD_FUZZ_JOBS (default 1): parallel fuzzing processes per target (-fork), for long runs.
#   GHOSTPOD_FUZZ_SKIP_BUILD=1 uses the existing build-fuzz/ as is.
# Reproduce a failure: build-fuzz/tests/fuzz/fuzz_<target> <artifact file>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
shift || true
all=(vault config infisical tazpod dotenv certs protocol hcvault)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2; }

if [[ ${GHOSTPOD_FUZZ_SKIP_BUILD:-0} != 1 ]]; then
  "$root/scripts/build.sh" fuzz >/dev/null
fi
bin=$root/build-fuzz/tests/fuzz
work=$(mktemp -d "${TMPDIR:-/tmp}/ghostpod-fuzz-XXXXXX")
artifacts=$work/artifacts
mkdir -p "$artifacts"
failed=()
cleanup() { if ((${#failed[@]} == 0)); then rm -rf "$work"; fi; }
trap cleanup EXIT

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in "${targets[@]}"; do
  [[ -x $bin/fuzz_$t ]] || { echo "fuzz: no target '$t' in $bin" >&2; exit 2; }
  corpus=$work/corpus-$t
  mkdir -p "$corpus" "$artifacts/$t"
  cp "$root/tests/fuzz/corpus/$t/"* "$corpus/"
  dict=()
  [[ -f $root/tests/fuzz/$t.dict ]] && dict=(-dict="$root/tests/fuzz/$t.dict")
  log=$work/$t.log
  echo "== fuzz $t for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
  # -timeout: one input taking 10 s is a hang worth reporting; -rss_limit_mb: a parser asked
  # to allocate without bound is a finding too. The reader limits (tar entries, JSON sizes)
  # all sit far below 2 GiB.
  rc=0
  "$bin/fuzz_$t" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -fork="${GHOSTPOD_FUZZ_JOBS:-0}" \
    -artifact_prefix="$artifacts/$t/" >"$log" 2>&1 || rc=$?
  stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true)
  echo "   $stats"
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | sed 's/^/   /' || true
  if ((rc != 0)) || ls "$artifacts/$t"/* >/dev/null 2>&1; then
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $rc); libFuzzer's log: $log" >&2
    grep -E 'ERROR: |SUMMARY: |runtime error: |Test unit written to' "$log" | head -20 | sed 's/^/   /' >&2 || true
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]}; crashing inputs and logs kept in $work" >&2
  exit 1
fi
echo "== fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"
