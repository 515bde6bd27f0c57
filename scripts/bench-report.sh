#!/usr/bin/env bash
# Runs every benchmark on this machine and writes tests/bench/REPORT.md. It starts with one
# summary table, the rows of the speed issue's table (tests/bench/bench_summary.sh: each figure
# next to its floor or peer from the same run, the ratio, the goal and pass/fail), as root and
# as the unprivileged user ghostpod-ci; then the machine's facts and the commit; then each
# benchmark's own tables as it printed them. README's figures come from this report.
#
#   scripts/bench-report.sh              # the full runs (about 8 minutes on 2 quiet cores)
#   QUICK=1 scripts/bench-report.sh      # fewer runs and sizes, to check the pipeline
#   REPORT=/tmp/r.md scripts/bench-report.sh
#
# Builds the release ghostpod and bench_vault first (scripts/build.sh release). As root, the
# summary and the session benchmark run twice: as root (no user namespace) and as the
# unprivileged user ghostpod-ci (rootless ghost), from copies in a scratch directory that user
# owns; the user is created as scripts/test.sh creates it, and removed at the end when this run
# created it.
# Exits non-zero when a benchmark fails (a figure could not be measured); the report then says
# which, and the previous report is left in place. A goal missed is reported, not an error.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
report=${REPORT:-$root/tests/bench/REPORT.md}
quick=${QUICK:-0}

scripts/install-deps.sh >/dev/null
scripts/build.sh release ghostpod bench_vault >/dev/null  # all the report runs
G=$root/build/ghostpod
[[ -x $G && -x build/tests/bench/bench_vault ]] || { echo "bench-report: the release build has no ghostpod or bench_vault" >&2; exit 1; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d)
user=ghostpod-ci created_user=0
cleanup() {
    if ((created_user)); then
        # Whatever still runs as the user was started by this run's benchmarks: a leftover, said so.
        local pids
        pids=$(pgrep -u "$user" || true)
        if [[ -n $pids ]]; then
            echo "bench-report: processes of $user left after the benchmarks (ended now):" >&2
            ps -o pid=,args= -p "${pids//$'\n'/,}" >&2 || true
            kill -KILL $pids 2>/dev/null || true
            sleep 1
        fi
        userdel --remove "$user" 2>/dev/null || echo "bench-report: could not remove the user $user" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT
failed=()

# section TITLE COMMAND...: runs one benchmark, its stdout into the report, stderr shown here.
section() {
    local title=$1 started rc=0
    shift
    echo "bench-report: $title" >&2
    started=$(date +%s)
    "$@" </dev/null >"$work/out" 2>"$work/err" || rc=$?
    {
        echo "## $title"
        echo
        echo "\`$*\` ($(( $(date +%s) - started )) s, load after: $(cut -d' ' -f1-3 /proc/loadavg))"
        echo
        echo '```'
        cat "$work/out"
        echo '```'
        echo
        if (( rc != 0 )); then
            echo "**Failed (exit $rc):**"
            echo
            echo '```'
            tail -n 20 "$work/err"
            echo '```'
            echo
        fi
    } >>"$work/sections"
    if (( rc != 0 )); then
        failed+=("$title")
        tail -n 20 "$work/err" >&2
    fi
    return 0
}

# runs what follows as the user, with a clean environment
as_user=(runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$user" TMPDIR=/tmp LANG=C.UTF-8)
if [[ $(id -u) -eq 0 ]]; then
    if ! id "$user" >/dev/null 2>&1; then
        useradd --system --create-home --home-dir "/home/$user" --shell /bin/bash "$user"
        created_user=1
    fi
    # The checkout may sit under a directory the user cannot enter: run copies from a scratch dir.
    u=$work/user
    mkdir -p "$u/bench" "$u/support"
    cp "$G" "$u/"
    # the full program and its module, below the front as a build tree has them
    if [[ -d $(dirname "$G")/lib/ghostpod ]]; then mkdir -p "$u/lib" && cp -r "$(dirname "$G")/lib/ghostpod" "$u/lib/"; fi
    cp tests/bench/bench_lib.sh tests/bench/bench_session.sh tests/bench/bench_summary.sh tests/bench/pty_run.c "$u/bench/"
    cp tests/support/fake_infisical.py "$u/support/"
    chmod 755 "$work"
    chown -R "$user:" "$u"
    chmod -R go+rX "$u"
    "${as_user[@]}" "$u/ghostpod" --version >/dev/null || { echo "bench-report: $user cannot run $u/ghostpod" >&2; exit 1; }
fi

if ((quick)); then
    vault_args=(--quick)
    session_env=(N_FAST=10 N_COLD=5 ROUNDS=5)
    summary_env=(FAST_ROUNDS=2 FAST_PER=3 SLOW_ROUNDS=2 SLOW_PER=1 PEAK_RUNS=1)
    pull_env=(NS="1 1000" RUNS=3 WARMUP=1)
else
    vault_args=()
    session_env=()
    summary_env=()
    pull_env=()
fi

# The summary first (its figures are the ones quoted), then the benchmarks with more detail.
summaries=("$work/summary.root.tsv")
section "Summary figures, as $(id -un): every command's median" \
    env "${summary_env[@]}" GHOSTPOD="$G" SUMMARY_TSV="$work/summary.root.tsv" tests/bench/bench_summary.sh
if [[ $(id -u) -eq 0 ]]; then
    summaries+=("$u/summary.tsv")
    section "Summary figures, as unprivileged $user (rootless ghost): every command's median" \
        "${as_user[@]}" "${summary_env[@]}" GHOSTPOD="$u/ghostpod" SUMMARY_TSV="$u/summary.tsv" bash "$u/bench/bench_summary.sh"
fi
section "Vault: unlock per KDF profile, load and save of 10,000 entries" build/tests/bench/bench_vault "${vault_args[@]}"
section "Session: joining a running session, as $(id -un)" env "${session_env[@]}" GHOSTPOD="$G" tests/bench/bench_session.sh
if [[ $(id -u) -eq 0 ]]; then
    section "Session: joining a running session, as unprivileged $user (rootless ghost)" \
        "${as_user[@]}" "${session_env[@]}" GHOSTPOD="$u/ghostpod" bash "$u/bench/bench_session.sh"
fi
section "Pull from Infisical: refresh and cold pull against curl" env "${pull_env[@]}" GHOSTPOD="$G" tests/bench/bench_pull.sh

# ---- the report: the summary table, the machine's facts, then every section ---------------------
commit=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
cpu="$(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
swap=$(awk '/^SwapTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
{
    echo "# ghostpod benchmark report"
    echo
    echo "Written by \`scripts/bench-report.sh\`$( ((quick)) && echo " with QUICK=1 (fewer runs: a pipeline check, not figures to quote)") on $(date -u '+%F %H:%M') UTC, commit $commit, $cpu, kernel $(uname -r), load before $load_before. Rerun it to regenerate this file."
    echo
    echo "| figure | user | ghostpod | floor / peer in the same run | ratio | goal | mark |"
    echo "|---|---|---|---|---|---|---|"
    # each figure's row as root, then as the user (paste interleaves the two files' lines)
    present=()
    for f in "${summaries[@]}"; do [[ -s $f ]] && present+=("$f"); done
    if ((${#present[@]})); then
        paste -d '\n' "${present[@]}" | grep -v '^$' |
            awk -F'\t' '{ printf "|"; for (i = 1; i <= NF; i++) printf " %s |", ($i == "fail" ? "**fail**" : $i); print "" }'
    fi
    for f in "${summaries[@]}"; do
        [[ -s $f ]] || echo "| every figure | $([[ $f == "$work/summary.root.tsv" ]] && id -un || echo "$user") | n/a | n/a | n/a | | benchmark failed |"
    done
    echo
    cat <<'EOF'
Each ratio is ghostpod over the floor or peer beside it: medians of runs taken alternately in one
sitting (tests/bench/bench_summary.sh; hyperfine runs one command's runs in a row, so each group
of commands is measured in rounds, its order reversed every other round). The pull rows run a bash
script on both sides (one bash start-up each). The terminal rows run both sides under
tests/bench/pty_run.c, a new pseudo-terminal with no timer (`script -qec` sleeps 20 ms a run).
First pull: a one-shot `pull -q -- true` with no session, minus the unlock alone (`secret ls` on
the same vault). Holder peak: VmHWM after a reset through /proc/PID/clear_refs, or the largest
VmRSS sampled every millisecond where the user may not reset it. The goals are reported here, not
asserted: a missed goal does not fail the run.
EOF
    echo
    echo "| fact | value |"
    echo "|---|---|"
    echo "| date (UTC) | $(date -u '+%F %H:%M') |"
    echo "| commit | $commit |"
    echo "| ghostpod | $("$G" --version 2>&1 | head -n 1) |"
    echo "| CPU | $cpu |"
    echo "| memory / swap | $memory / $swap |"
    echo "| system | $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r) |"
    echo "| virtualisation | $(systemd-detect-virt 2>/dev/null || echo unknown) |"
    echo "| compiler | $(c++ --version | head -n 1) |"
    echo "| libraries | libsodium $(dpkg-query -W -f='${Version}' libsodium23 2>/dev/null), libargon2 $(dpkg-query -W -f='${Version}' libargon2-1 2>/dev/null), libcurl $(dpkg-query -W -f='${Version}' libcurl4 2>/dev/null), OpenSSL $(dpkg-query -W -f='${Version}' libssl3 2>/dev/null) |"
    echo "| timer | $(hyperfine --version 2>/dev/null || echo "none (bash loop)") |"
    echo "| load before / after | $load_before / $(cut -d' ' -f1-3 /proc/loadavg) |"
    echo
    cat "$work/sections"
} >"$work/report"

if ((${#failed[@]})); then
    echo "bench-report: failed: ${failed[*]}; $report left as it was (this run's report: below)" >&2
    cat "$work/report" >&2
    exit 1
fi
mkdir -p "$(dirname "$report")"
cp "$work/report" "$report.tmp"
mv -f "$report.tmp" "$report"
echo "bench-report: wrote $report" >&2
