#!/usr/bin/env bash
# Runs every benchmark on this machine and writes tests/bench/REPORT.md: the machine's facts,
# then each benchmark's tables as it printed them (ghostpod next to its peers and floors, with
# ratios taken in the same run). README's figures come from this report.
#
#   scripts/bench-report.sh              # the full runs (about 6 minutes on 2 cores)
#   QUICK=1 scripts/bench-report.sh      # fewer runs and sizes, to check the pipeline (about 1 minute)
#   REPORT=/tmp/r.md scripts/bench-report.sh
#
# Builds the release variant first (scripts/build.sh release). As root, the session benchmark
# runs twice: as root (no user namespace) and as the unprivileged user ghostpod-ci (rootless
# ghost), as scripts/test.sh creates it. Exits non-zero when a benchmark fails; the report then
# says which, and the previous report is left in place.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
report=${REPORT:-$root/tests/bench/REPORT.md}
quick=${QUICK:-0}

scripts/install-deps.sh >/dev/null
scripts/build.sh release >/dev/null
G=$root/build/ghostpod
[[ -x $G && -x build/tests/bench/bench_vault ]] || { echo "bench-report: the release build has no ghostpod or bench_vault" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()

# section TITLE COMMAND...: runs one benchmark, its stdout into the report, stderr shown here.
section() {
    local title=$1 started rc=0
    shift
    echo "bench-report: $title" >&2
    started=$(date +%s)
    "$@" >"$work/out" 2>"$work/err" || rc=$?
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
    } >>"$work/report"
    if (( rc != 0 )); then
        failed+=("$title")
        tail -n 20 "$work/err" >&2
    fi
    return 0
}

memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
swap=$(awk '/^SwapTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
{
    echo "# ghostpod benchmark report"
    echo
    echo "Written by \`scripts/bench-report.sh\`$( ((quick)) && echo " with QUICK=1 (fewer runs: a pipeline check, not figures to quote)"). Rerun it to regenerate this file."
    echo
    echo "| fact | value |"
    echo "|---|---|"
    echo "| date (UTC) | $(date -u '+%F %H:%M') |"
    echo "| commit | $(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown) |"
    echo "| ghostpod | $("$G" --version 2>&1 | head -n 1) |"
    echo "| CPU | $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') |"
    echo "| memory / swap | $memory / $swap |"
    echo "| system | $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r) |"
    echo "| virtualisation | $(systemd-detect-virt 2>/dev/null || echo unknown) |"
    echo "| compiler | $(c++ --version | head -n 1) |"
    echo "| libraries | libsodium $(dpkg-query -W -f='${Version}' libsodium23 2>/dev/null), libargon2 $(dpkg-query -W -f='${Version}' libargon2-1 2>/dev/null), libcurl $(dpkg-query -W -f='${Version}' libcurl4 2>/dev/null), OpenSSL $(dpkg-query -W -f='${Version}' libssl3 2>/dev/null) |"
    echo "| timer | $(hyperfine --version 2>/dev/null || echo "none (bash loop)") |"
    echo "| load before | $(cut -d' ' -f1-3 /proc/loadavg) |"
    echo
} >"$work/report"

if ((quick)); then
    section "Vault: unlock per KDF profile, load and save of 10,000 entries" build/tests/bench/bench_vault --quick
    session_env=(N_FAST=10 N_COLD=5 ROUNDS=5)
    pull_env=(NS="1 1000" RUNS=3 WARMUP=1)
else
    section "Vault: unlock per KDF profile, load and save of 10,000 entries" build/tests/bench/bench_vault
    session_env=()
    pull_env=()
fi
section "Session: joining a running session, as $(id -un)" env "${session_env[@]}" GHOSTPOD="$G" tests/bench/bench_session.sh

if [[ $(id -u) -eq 0 ]]; then
    user=ghostpod-ci
    id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
    # The checkout may sit under a directory the user cannot enter: run copies from a scratch dir.
    mkdir -p "$work/user"
    cp "$G" tests/bench/bench_session.sh "$work/user/"
    chmod 755 "$work" "$work/user"
    chown -R "$user:$user" "$work/user"
    section "Session: joining a running session, as unprivileged $user (rootless ghost)" \
        runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$user" TMPDIR=/tmp \
        "${session_env[@]}" GHOSTPOD="$work/user/ghostpod" bash "$work/user/bench_session.sh"
fi

section "Pull from Infisical: refresh and cold pull against curl" env "${pull_env[@]}" GHOSTPOD="$G" tests/bench/bench_pull.sh

if ((${#failed[@]})); then
    echo "bench-report: failed: ${failed[*]}; $report left as it was (this run's report: below)" >&2
    cat "$work/report" >&2
    exit 1
fi
mkdir -p "$(dirname "$report")"
cp "$work/report" "$report.tmp"
mv -f "$report.tmp" "$report"
echo "bench-report: wrote $report" >&2
