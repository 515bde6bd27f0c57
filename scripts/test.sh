#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test pass (tests/README.md describes them):
#   1. release build; every test through ctest -j 2, as the invoking user (root in CI);
#   2. as root: the same tests as the unprivileged user ghostpod-ci, so rootless behaviour
#      (user namespaces, ramfs, memlock limits, same-uid /proc checks) is tested too. They run
#      from a copy of the binaries and the files the tests read, in a scratch directory that
#      user owns: the clone itself may sit where it cannot enter (/root);
#   3. an ASan + UBSan build with the test-only fault points, and its focused test set
#      (tests/CMakeLists.txt names it and says why); as root also the [faults] and [session]
#      tests of that build as ghostpod-ci (the rootless fault points and holder setup);
#   4. every libFuzzer target of tests/fuzz for GHOSTPOD_FUZZ_SECONDS (default 20) seconds,
#      two targets at a time (scripts/fuzz.sh; clang, ASan + UBSan).
# A failing pass fails the script, and the passes after it still run. The end lists each
# phase with its wall time and result, and every skip with its reason; as root (the CI
# configuration) a check skipped in every pass that ran it fails the run.
# ghostpod-ci is created as a system user (uid below 1000) when missing and removed at the end
# when this run created it. GHOSTPOD_TEST_SCRATCH picks where its copies go (default its home).
# GHOSTPOD_SKIP_ASAN=1 / GHOSTPOD_SKIP_FUZZ=1 leave out passes 3 / 4 for a quick local run.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
fuzz_seconds=${GHOSTPOD_FUZZ_SECONDS:-20}
user=ghostpod-ci
created_user=0
work=$(mktemp -d "${TMPDIR:-/tmp}/ghostpod-test-XXXXXX")
user_copies=()

phase_names=() phase_times=() phase_results=() failed=()
script_start=$EPOCHREALTIME

# phase NAME COMMAND...: runs COMMAND, records its wall time and result.
phase() {
  local name=$1 start=$EPOCHREALTIME rc=0
  shift
  echo "== $name"
  "$@" || rc=$?
  phase_names+=("$name")
  phase_times+=("$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d:%02d", (b - a) / 60, (b - a) % 60 }')")
  if ((rc == 0)); then
    phase_results+=(ok)
  else
    phase_results+=("FAILED (exit $rc)")
    failed+=("$name")
    echo "test.sh: $name FAILED (exit $rc); the passes after it still run" >&2
  fi
  return "$rc"
}

# The skip logs tests/support/skip.cpp writes (GHOSTPOD_TEST_SKIP_LOG), one per pass.
skip_logs=()
report_skips() {
  local log had=0
  for log in "${skip_logs[@]}"; do
    [[ -s $log ]] || continue
    if grep -q '^skip' "$log"; then
      ((had)) || echo "== skips, with their reasons"
      had=1
      echo "  $(basename "$log" .skips):"
      awk -F'\t' '$1 == "skip" { print "    " $2 ": " $3 }' "$log" | sort -u
    fi
  done
  # A pass that failed before its tests ran wrote no log: it covers nothing.
  local logs=()
  for log in "${skip_logs[@]}"; do [[ -f $log ]] && logs+=("$log"); done
  ((${#logs[@]})) || return 0
  # A skip (test, reason) is covered when another pass ran that test without that skip.
  local never
  never=$(awk -F'\t' '
    FNR == 1 { pass++ }
    $1 == "ran" { ran[pass, $2] = 1 }
    $1 == "skip" { skipped[pass, $2, $3] = 1; key[$2 "\t" $3] = 1 }
    END {
      for (k in key) {
        split(k, f, "\t"); covered = 0
        for (p = 1; p <= pass; p++) if (((p, f[1]) in ran) && !((p, f[1], f[2]) in skipped)) covered = 1
        if (!covered) print "    " f[1] ": " f[2]
      }
    }' "${logs[@]}" | sort)
  if [[ -n $never ]]; then
    echo "== skipped in every pass that ran them:"
    echo "$never"
    return 1
  fi
  echo "== every skipped check ran in another pass"
}

finish() {
  local skips_rc=0
  report_skips || skips_rc=$?
  if ((skips_rc != 0)); then
    if [[ $(id -u) -eq 0 ]]; then
      failed+=("skips")
      echo "test.sh: the checks above ran in no pass; CI runs as root so that each one runs somewhere" >&2
    else
      echo "test.sh: not root: the checks above need the root or the unprivileged pass that only root can run" >&2
    fi
  fi
  echo "== phases (wall time)"
  local i
  for i in "${!phase_names[@]}"; do
    printf '  %-58s %6s  %s\n' "${phase_names[$i]}" "${phase_times[$i]}" "${phase_results[$i]}"
  done
  printf '  %-58s %6s\n' "total" "$(awk -v a="$script_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d:%02d", (b - a) / 60, (b - a) % 60 }')"
  if ((${#failed[@]})); then
    echo "test.sh: FAILED: ${failed[*]}" >&2
    exit 1
  fi
  echo "== all test passes finished"
  exit 0
}

cleanup() {
  if ((created_user)); then
    # Whatever still runs as the test user was started by this run's tests: a leftover, said so.
    local pids
    pids=$(pgrep -u "$user" || true)
    if [[ -n $pids ]]; then
      echo "test.sh: processes of $user left after the tests (ended now):" >&2
      ps -o pid=,args= -p "${pids//$'\n'/,}" >&2 || true
      kill -KILL $pids 2>/dev/null || true
      sleep 1
    fi
    userdel --remove "$user" 2>/dev/null || echo "test.sh: could not remove the user $user" >&2
  fi
  rm -rf "$work" "${user_copies[@]}"
}
trap cleanup EXIT

# The ctest tree of BUILD_DIR/tests, its test binaries and ghostpod, and the source files the
# tests read, copied into DEST with every path rewritten, so that ctest can run there as USER.
copy_for_user() {
  local build dest=$2 f text
  build=$(cd "$1" && pwd) || return  # absolute: the ctest files name it so
  mkdir -p "$dest/build/tests" "$dest/src/man" "$dest/src/completions" "$dest/src/tests/support" || return
  cp "$build/ghostpod" "$dest/" || return
  # The full program and its lazily loaded module are found below the front (pod/front.cpp).
  if [[ -d $build/lib/ghostpod ]]; then
    mkdir -p "$dest/lib/ghostpod" && cp "$build/lib/ghostpod/ghostpod" "$build/lib/ghostpod/ghostpod-net.so" "$dest/lib/ghostpod/" || return
  fi
  cp "$build"/tests/ghostpod_unit_tests "$build"/tests/ghostpod_integration_tests "$dest/build/tests/" || return
  for f in "$build"/tests/CTestTestfile.cmake "$build"/tests/*_include-*.cmake "$build"/tests/*_tests-*.cmake; do
    text=$(<"$f") || return
    printf '%s\n' "${text//"$build/tests"/"$dest/build/tests"}" >"$dest/build/tests/${f##*/}" || return
  done
  cp README.md "$dest/src/" || return  # the threat-model test compares README's Protects list with its tests
  cp man/* "$dest/src/man/" && cp completions/* "$dest/src/completions/" || return
  cp tests/support/*.py "$dest/src/tests/support/" || return
  chown -R "$user:" "$dest"
}

# as_user DEST COMMAND...: runs COMMAND as the test user in a clean environment pointing the
# tests at DEST's copies; its skips go to DEST/skips (owned by the user).
as_user() {
  local dest=$1
  shift
  runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$user" TMPDIR=/tmp LANG=C.UTF-8 \
    GHOSTPOD_TEST_BINARY="$dest/ghostpod" GHOSTPOD_TEST_SOURCE_DIR="$dest/src" GHOSTPOD_TEST_SKIP_LOG="$dest/skips" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" "$@"
}

ensure_user() {
  id "$user" >/dev/null 2>&1 && return 0
  useradd --system --create-home --home-dir "/home/$user" --shell /bin/bash "$user" || return
  created_user=1
}

# Prepares DEST for the user and checks the user can run from it before the pass starts.
prepare_user_copy() {
  local build=$1 dest=$2
  ensure_user || return
  copy_for_user "$build" "$dest" || return
  if ! as_user "$dest" "$dest/ghostpod" --version >/dev/null; then
    echo "test.sh: $user cannot run $dest/ghostpod (a noexec mount?); set GHOSTPOD_TEST_SCRATCH to a directory it can use" >&2
    return 1
  fi
}

run_ctest() {
  local dir=$1 skips=$2
  shift 2
  GHOSTPOD_TEST_SKIP_LOG=$skips ctest --test-dir "$dir" -j 2 --output-on-failure "$@"
}

phase "install packages (scripts/install-deps.sh)" scripts/install-deps.sh || finish
phase "build release" scripts/build.sh release || finish

# ctest splits a test name at ';' (catch_discover_tests makes a list of it): such a case turns
# into two entries that run nothing and pass. Names must also differ, or ctest keeps one.
check_test_names() {
  local bin names bad=0
  for bin in build/tests/ghostpod_unit_tests build/tests/ghostpod_integration_tests; do
    # Catch2 v2 exits with the number of names listed, so the list itself is the check.
    names=$("$bin" --list-test-names-only || true)
    [[ -n $names ]] || { echo "test.sh: $bin listed no tests" >&2; return 1; }
    if grep -n ';' <<<"$names" >&2; then echo "test.sh: test names in $bin contain ';' (above): rename them" >&2; bad=1; fi
    if sort <<<"$names" | uniq -d | grep . >&2; then echo "test.sh: test names in $bin repeat (above)" >&2; bad=1; fi
  done
  return "$bad"
}
phase "test names: no ';', no repeats" check_test_names

skip_logs+=("$work/release-as-$(id -un).skips")
phase "tests: release, as $(id -un)" run_ctest build "${skip_logs[-1]}"

# README's first command, as a user runs it (packages and build are done by now, so this is the
# demo itself): its output goes to a log, shown when it fails.
run_demo() {
  local rc=0
  scripts/demo.sh </dev/null >"$work/demo.log" 2>&1 || rc=$?
  if ((rc != 0)); then
    echo "test.sh: scripts/demo.sh failed (exit $rc); its last lines:" >&2
    tail -n 40 "$work/demo.log" >&2
  fi
  return "$rc"
}
phase "demo: scripts/demo.sh, README's first command" run_demo

# The copies go to the test user's home by default, not /tmp: the leak tests read every file
# under /tmp, /var/tmp and /dev/shm, and would read the copied binaries on every check.
scratch=${GHOSTPOD_TEST_SCRATCH:-/home/$user}
if [[ $(id -u) -eq 0 ]]; then
  ensure_user || failed+=("create the user $user")
  user_copy=$(mktemp -d "$scratch/ghostpod-ci-XXXXXX") && user_copies+=("$user_copy")
  echo "== the unprivileged passes run as $user from copies in $scratch, whether or not $user may enter $root"
  if phase "prepare the copy for $user" prepare_user_copy build "$user_copy"; then
    skip_logs+=("$user_copy/skips")
    phase "tests: release, as $user" as_user "$user_copy" ctest --test-dir "$user_copy/build/tests" -j 2 --output-on-failure
  fi
else
  echo "== not root: no unprivileged pass (the pass above is the rootless run)"
fi

if [[ ${GHOSTPOD_SKIP_ASAN:-0} != 1 ]]; then
  # detect_leaks stays the default (on), which ghostpod turns off for itself inside the ghost (pod/main.cpp)
  export ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  if phase "build asan (ASan + UBSan, fault points)" scripts/build.sh asan ghostpod ghostpod_unit_tests ghostpod_integration_tests; then
    skip_logs+=("$work/asan-as-$(id -un).skips")
    phase "tests: asan focused set, as $(id -un)" run_ctest build-asan "${skip_logs[-1]}"
    if [[ $(id -u) -eq 0 ]]; then
      asan_copy=$(mktemp -d "$scratch/ghostpod-ci-asan-XXXXXX") && user_copies+=("$asan_copy")
      if phase "prepare the asan copy for $user" prepare_user_copy build-asan "$asan_copy"; then
        skip_logs+=("$asan_copy/skips")
        phase "tests: asan [faults] and [session], as $user" as_user "$asan_copy" ctest --test-dir "$asan_copy/build/tests" \
          -j 2 --output-on-failure -L rootless
      fi
    fi
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS
fi

if [[ ${GHOSTPOD_SKIP_FUZZ:-0} != 1 ]]; then
  fuzz_two_at_a_time() {
    if ! scripts/build.sh fuzz >"$work/fuzz-build.log" 2>&1; then
      tail -n 30 "$work/fuzz-build.log"
      return 1
    fi
    local half_a=(vault config infisical protocol) half_b=(tazpod dotenv certs hcvault) rc_a=0 rc_b=0
    GHOSTPOD_FUZZ_SKIP_BUILD=1 scripts/fuzz.sh "$fuzz_seconds" "${half_a[@]}" >"$work/fuzz-a.log" 2>&1 &
    local pid_a=$!
    GHOSTPOD_FUZZ_SKIP_BUILD=1 scripts/fuzz.sh "$fuzz_seconds" "${half_b[@]}" >"$work/fuzz-b.log" 2>&1 || rc_b=$?
    wait "$pid_a" || rc_a=$?
    cat "$work/fuzz-a.log" "$work/fuzz-b.log"
    ((rc_a == 0 && rc_b == 0))
  }
  phase "fuzz: build, then 8 targets x ${fuzz_seconds}s, two at a time" fuzz_two_at_a_time
fi
finish
