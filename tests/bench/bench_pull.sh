#!/usr/bin/env bash
# What `ghostpod pull` costs next to the floor, a bare curl doing the same two requests (log in +
# one list), against the local fake Infisical server over loopback TLS, for N = 1, 100, 1000 and
# 10000 secrets (values 64-200 bytes of random text, every 50th multi-line; keys KEY_00001...).
#
#   GHOSTPOD=build/ghostpod tests/bench/bench_pull.sh
#   NS="1 100" RUNS=5 tests/bench/bench_pull.sh           # fewer sizes / runs
#
# Rows per N (hyperfine medians, --warmup 2, RUNS (10) runs; RUNS_BIG for N >= 10000, by default
# 10, or 5 when one cold pull there takes over 2 s):
#   curl          the floor: POST /api/v1/auth/universal-auth/login, then GET /api/v4/secrets with
#                 the Bearer token, --cacert, body to /dev/null (two curl processes in one script)
#   pull refresh  `ghostpod pull --no-shell -q` into a running session. The session logged in when
#                 it started and reuses the token: a refresh is one request to the holder (no
#                 attach), GET + parse + compare digests + write what changed (here nothing, so no
#                 file and no offline cache is written); it does no login, so it is cheaper than
#                 curl by one request.
#   cold pull     `ghostpod pull -q -- true` with no session: unlock (Argon2id, interactive profile),
#                 new ghost, login, GET, write, run, revoke at the end
#   cold run      `ghostpod run -- true` with no session on a vault without Infisical config: the
#                 part of the cold pull that is not the pull (unlock + ghost)
# Every timed command is a small bash script run with `hyperfine -N`, so each figure holds one
# bash start-up (printed); the ratios compare like with like.
# Peak RSS: curl and the ghostpod client from the rusage of their waited-for children; the pull
# itself runs in the session's holder (double-forked, not a child): its VmHWM from /proc, whole
# session (includes the unlock at session start) and for one refresh alone (peak reset through
# /proc/PID/clear_refs, when the kernel allows it).
set -euo pipefail

G=${GHOSTPOD:-"$(dirname "$0")/../../build/ghostpod"}
NS=${NS:-"1 100 1000 10000"}
RUNS=${RUNS:-10}
RUNS_BIG=${RUNS_BIG:-}
WARMUP=${WARMUP:-2}
PASS=bench-passphrase
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_lib.sh"
FAKE=$HERE/../support/fake_infisical.py

die() { echo "bench_pull: $*" >&2; exit 1; }
[[ -x $G ]] || die "no ghostpod binary at $G (set GHOSTPOD)"
G=$(realpath "$G")
[[ -f $FAKE ]] || die "no fake server at $FAKE"
for tool in hyperfine curl openssl python3; do command -v "$tool" >/dev/null || die "$tool is needed"; done

work=$(mktemp -d)
server_pids=() vaults=()
cleanup() {
    local rc=$? v p
    trap - EXIT INT TERM
    for v in "${vaults[@]}"; do
        "$G" --vault "$v" lock >/dev/null 2>&1 || true
    done
    for p in "${server_pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/home" "$work/config" "$work/data" "$work/cmd" "$work/out"
export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data  # no user config
cd "$work"

# ---- throwaway CA and a server certificate for IP 127.0.0.1 ---------------------------------
bench_certs bench_pull

# ---- helpers ---------------------------------------------------------------------------------
# rusage.py CMD...: runs CMD, prints the peak RSS (KiB) of it and its waited-for descendants.
cat >rusage.py <<'EOF'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
EOF
peak_kib() {  # CMD... -> peak RSS in KiB of CMD and its waited-for descendants
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f %M -o "$work/time.out" "$@" >/dev/null && tail -n 1 "$work/time.out"
    else
        python3 "$work/rusage.py" "$@"
    fi
}
calc() { python3 -c "import sys; print($1)" "${@:2}"; }
median_ms() { python3 -c 'import json,sys; print("%.1f" % (1000 * json.load(open(sys.argv[1]))["results"][0]["median"]))' "$1"; }

# bench NAME RUNS PREPARE SCRIPT: hyperfine median (ms) of `bash SCRIPT`, or "n/a" (reason kept).
bench() {
    local name=$1 runs=$2 prepare=$3 script=$4 args
    args=(-N --style none --warmup "$WARMUP" --runs "$runs" --export-json "$work/out/$name.json")
    [[ -n $prepare ]] && args+=(--prepare "bash $prepare")
    if hyperfine "${args[@]}" -- "bash $script" >"$work/out/$name.log" 2>&1; then
        median_ms "$work/out/$name.json"
    else
        grep -v '^\s*$' "$work/out/$name.log" | tail -n 3 >"$work/out/$name.failed"
        echo n/a
    fi
}
script() {  # NAME BODY: writes cmd/NAME.sh, prints its path
    printf '#!/bin/bash\nset -euo pipefail\n%s\n' "$2" >"$work/cmd/$1.sh"
    echo "$work/cmd/$1.sh"
}


# init_vault PATH [IDENTITY]: a vault (interactive KDF), with the machine identity when asked.
init_vault() {
    mkdir -p "$(dirname "$1")"
    "$G" --vault "$1" --passphrase-fd 3 init --kdf interactive 3<<<"$PASS" >/dev/null 2>"$work/init.err" ||
        die "init $1: $(cat "$work/init.err")"
    vaults+=("$1")
    if [[ ${2:-} == identity ]]; then
        printf 'id\nsecret\n' | "$G" --vault "$1" --passphrase-fd 3 identity set 3<<<"$PASS" >/dev/null 2>"$work/init.err" ||
            die "identity set $1: $(cat "$work/init.err")"
    fi
}

# ---- the part of a cold pull that is not the pull: a vault without Infisical config ---------
echo '{"version": 1}' >"$work/plain.json"
VR=$work/plain/vault
init_vault "$VR"
cold_run_cmd="\"$G\" --vault \"$VR\" --config \"$work/plain.json\" --passphrase-fd 3 run -- true 3<<<\"$PASS\""
cold_run=$(script cold_run "$cold_run_cmd")
lock_plain=$(script lock_plain "\"$G\" --vault \"$VR\" lock >/dev/null 2>&1 || true")
bash "$cold_run" 2>"$work/check.err" || die "cold run fails: $(cat "$work/check.err")"
empty=$(script empty ":")

declare -A r_curl r_refresh r_cold r_run r_runs rss_curl rss_client hwm_session hwm_refresh
for n in $NS; do
    d=$work/n$n
    mkdir -p "$d"
    make_world "$n" "$d/world.json"
    python3 "$FAKE" --world "$d/world.json" --ready-file "$d/port" --tls-cert server.pem --tls-key server.key \
        >"$d/server.log" 2>&1 &
    server_pids+=($!)
    for _ in $(seq 200); do [[ -s $d/port ]] && break; sleep 0.05; done
    [[ -s $d/port ]] || die "the fake server for N=$n did not start: $(cat "$d/server.log")"
    port=$(cat "$d/port")
    base=https://127.0.0.1:$port
    cat >"$d/config.json" <<EOF
{"version": 1,
 "infisical": {"host": "$base", "project_id": "bench-proj", "environment": "dev", "cacert": "$CA"}}
EOF

    # the floor: one bash function doing both curl calls
    curl_sh=$(script "curl_$n" "$(cat <<EOF
floor() {
    local resp
    resp=\$(curl -sS --fail --cacert "$CA" -H 'Content-Type: application/json' \\
        --data-binary '{"clientId":"id","clientSecret":"secret"}' "$base/api/v1/auth/universal-auth/login")
    [[ \$resp =~ \"accessToken\":\"([^\"]+)\" ]] || { echo "no token in the login answer" >&2; return 1; }
    curl -sS --fail --cacert "$CA" -H "Authorization: Bearer \${BASH_REMATCH[1]}" -o /dev/null \\
        "$base/api/v4/secrets?projectId=bench-proj&environment=dev&secretPath=/&recursive=false&includeImports=true&expandSecretReferences=true&viewSecretValue=true"
}
floor
EOF
)")
    bash "$curl_sh" 2>"$work/check.err" || die "curl floor fails for N=$n: $(cat "$work/check.err")"

    # a running session for the refresh rows
    VS=$d/session/vault
    init_vault "$VS" identity
    "$G" --vault "$VS" --config "$d/config.json" --passphrase-fd 3 pull --no-shell -q 3<<<"$PASS" 2>"$work/check.err" ||
        die "starting the session for N=$n: $(cat "$work/check.err")"
    refresh_sh=$(script "refresh_$n" "\"$G\" --vault \"$VS\" --config \"$d/config.json\" pull --no-shell -q")
    bash "$refresh_sh" 2>"$work/check.err" || die "refresh pull fails for N=$n: $(cat "$work/check.err")"
    got=$("$G" --vault "$VS" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"]["pull"]["secrets"])')
    [[ $got == "$n" ]] || die "the session holds $got pulled secrets, not $n"

    # cold one-shot pulls
    VC=$d/cold/vault
    init_vault "$VC" identity
    cold_sh=$(script "cold_$n" "\"$G\" --vault \"$VC\" --config \"$d/config.json\" --passphrase-fd 3 pull -q -- true 3<<<\"$PASS\"")
    lock_cold=$(script "lock_cold_$n" "\"$G\" --vault \"$VC\" lock >/dev/null 2>&1 || true")  # one still closing
    t0=$EPOCHREALTIME
    bash "$cold_sh" 2>"$work/check.err" || die "cold pull fails for N=$n: $(cat "$work/check.err")"
    t1=$EPOCHREALTIME
    runs=$RUNS
    if (( n >= 10000 )); then
        runs=${RUNS_BIG:-$(calc '5 if float(sys.argv[2]) - float(sys.argv[1]) > 2 else int(sys.argv[3])' "$t0" "$t1" "$RUNS")}
    fi
    r_runs[$n]=$runs

    r_curl[$n]=$(bench "curl_$n" "$runs" "" "$curl_sh")
    r_refresh[$n]=$(bench "refresh_$n" "$runs" "" "$refresh_sh")
    r_cold[$n]=$(bench "cold_$n" "$runs" "$lock_cold" "$cold_sh")
    r_run[$n]=$(bench "run_$n" "$runs" "$lock_plain" "$cold_run")

    # peak RSS: curl; the ghostpod client of a refresh; the holder (session, then one refresh)
    rss_curl[$n]=$(peak_kib bash "$curl_sh" 2>/dev/null) || rss_curl[$n]=n/a
    rss_client[$n]=$(python3 "$work/rusage.py" "$G" --vault "$VS" --config "$d/config.json" pull --no-shell -q) || rss_client[$n]=n/a
    holder=$("$G" --vault "$VS" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"]["holder_pid"])')
    hwm_session[$n]=$(awk '/^VmHWM:/ { print $2 }' "/proc/$holder/status")
    hwm_refresh[$n]=n/a
    if echo 5 2>/dev/null >"/proc/$holder/clear_refs"; then  # 5: reset the peak RSS to the current RSS
        bash "$refresh_sh"
        hwm_refresh[$n]=$(awk '/^VmHWM:/ { print $2 }' "/proc/$holder/status")
    fi
    "$G" --vault "$VS" lock >/dev/null 2>&1 || true
    "$G" --vault "$VC" lock >/dev/null 2>&1 || true
done
bash_ms=$(bench empty 20 "" "$empty")

# ---- report ----------------------------------------------------------------------------------
echo "ghostpod pull benchmark: $("$G" --version 2>&1 | head -n 1) ($G, built $(date -r "$G" '+%F %T'))"
echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "user $(id -un); $(hyperfine --version), medians, warmup $WARMUP; fake Infisical (python3) over loopback TLS"
echo "every figure holds one bash start-up (empty script: $bash_ms ms)"
echo
echo "wall time, ms (refresh = GET + parse + write into the ghost + offline cache; the session's token is reused: no login;"
echo "the world does not change between pulls, so a refresh compares every file and rewrites none)"
fmt='%6s %5s %9s %9s %8s %-14s %9s %9s %9s %10s\n'
printf "$fmt" N runs curl refresh ref/curl "target <=1.5x" "cold pull" "cold run" "pull adds" adds/curl
for n in $NS; do
    c=${r_curl[$n]} r=${r_refresh[$n]} p=${r_cold[$n]} u=${r_run[$n]}
    ratio=- verdict=- adds=- adds_ratio=-
    if [[ $c != n/a && $r != n/a ]]; then
        ratio=$(calc '"%.2f" % (float(sys.argv[2]) / float(sys.argv[1]))' "$c" "$r")
        verdict=$(calc '"target met" if float(sys.argv[1]) <= 1.5 else "target missed"' "$ratio")
    fi
    [[ $p != n/a && $u != n/a ]] && adds=$(calc '"%.1f" % (float(sys.argv[1]) - float(sys.argv[2]))' "$p" "$u")
    [[ $adds != - && $c != n/a ]] && adds_ratio=$(calc '"%.2f" % (float(sys.argv[1]) / float(sys.argv[2]))' "$adds" "$c")
    printf "$fmt" "$n" "${r_runs[$n]}" "$c" "$r" "$ratio" "$verdict" "$p" "$u" "$adds" "$adds_ratio"
done
echo
echo "peak RSS, MiB (holder: VmHWM of the session's holder, where the pull runs)"
fmt='%6s %9s %16s %20s %20s\n'
printf "$fmt" N curl "ghostpod client" "holder (session)" "holder (1 refresh)"
mib() { [[ $1 == n/a ]] && echo n/a || calc '"%.1f" % (int(sys.argv[1]) / 1024)' "$1"; }
for n in $NS; do
    printf "$fmt" "$n" "$(mib "${rss_curl[$n]}")" "$(mib "${rss_client[$n]}")" "$(mib "${hwm_session[$n]}")" "$(mib "${hwm_refresh[$n]}")"
done
echo "(holder (session) includes the Argon2id unlock at session start; (1 refresh) is the peak over one refresh after a reset)"
for f in "$work"/out/*.failed; do
    [[ -e $f ]] || continue
    echo "n/a $(basename "$f" .failed):"
    sed 's/^/    /' "$f"
done
