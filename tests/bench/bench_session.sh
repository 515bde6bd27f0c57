#!/usr/bin/env bash
# What joining a running session costs: `ghostpod run -- /bin/true` against a lingering session,
# next to the floor (/bin/true) and the tools that enter or make namespaces (nsenter, unshare,
# bwrap), all in the same run; and what a cold one-shot run costs next to unlocking alone.
#
#   GHOSTPOD=build/ghostpod tests/bench/bench_session.sh        # as root, then as a user:
#   runuser -u ghostpod-ci -- env GHOSTPOD=/tmp/x/ghostpod bash tests/bench/bench_session.sh
#
# The ghost differs by user: as root it has no user namespace (mount, pid, ipc; tmpfs noswap),
# as a user it has one (user, mount, pid, ipc; ramfs). nsenter joins the namespaces `run` joins.
# Timer: hyperfine when installed (medians from its JSON), else a loop on $EPOCHREALTIME.
# N_FAST (50) and N_COLD (10) runs per row, taken in ROUNDS (5) interleaved rounds so that a
# change in machine load mid-run shifts every row, not one.
set -euo pipefail

G=${GHOSTPOD:-"$(dirname "$0")/../../build/ghostpod"}
N_FAST=${N_FAST:-50}
N_COLD=${N_COLD:-10}
ROUNDS=${ROUNDS:-5}
PASS=bench-passphrase

die() { echo "bench_session: $*" >&2; exit 1; }
[[ -x $G ]] || die "no ghostpod binary at $G (set GHOSTPOD)"
G=$(realpath "$G")
. "$(cd "$(dirname "$0")" && pwd)/bench_lib.sh"
command -v python3 >/dev/null || die "python3 is needed for the medians"
(( N_FAST % ROUNDS == 0 && N_COLD % ROUNDS == 0 )) || die "N_FAST and N_COLD must be multiples of ROUNDS"

work=$(mktemp -d)
VW=$work/warm/vault   # the session the warm rows join
VC=$work/cold/vault   # one-shot sessions, and unlock alone
standin="" standin_init=""
cleanup() {
    local rc=$?
    if [[ -e $VW ]]; then "$G" --vault "$VW" lock >/dev/null 2>&1 || true; fi
    if [[ -e $VC ]]; then "$G" --vault "$VC" lock >/dev/null 2>&1 || true; fi
    # unshare --fork ignores SIGTERM, and the stand-in's init ignores what it has no handler for
    if [[ -n $standin ]]; then kill -KILL "${standin_init:-$standin}" 2>/dev/null || true; wait "$standin" 2>/dev/null || true; fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
mkdir -p "$work/warm" "$work/cold" "$work/times" "$work/failed"
cd "$work"
export XDG_CONFIG_HOME=$work/config  # no user config (mappings, linger) changes what is measured

# ---- timing ------------------------------------------------------------------------------
if command -v hyperfine >/dev/null; then
    timer="hyperfine $(hyperfine --version | cut -d' ' -f2)"
else
    timer="bash loop on \$EPOCHREALTIME"
fi

# measure KEY RUNS WARMUP exec|shell PREPARE CMD: appends RUNS times (seconds) to times/KEY.
# exec runs CMD split on spaces with no shell; shell runs it with bash (redirections).
measure() {
    local key=$1 runs=$2 warmup=$3 mode=$4 prepare=$5 cmd=$6 i t0 t1 rc
    [[ -e $work/failed/$key ]] && return 0
    if [[ $timer == hyperfine* ]]; then
        local args=(--style none --runs "$runs" --warmup "$warmup" --export-json "$work/h.json")
        if [[ $mode == exec ]]; then args+=(-N); else args+=(--shell bash); fi
        [[ -n $prepare ]] && args+=(--prepare "$prepare")
        if ! hyperfine "${args[@]}" -- "$cmd" >"$work/h.log" 2>&1; then
            grep -v '^\s*$' "$work/h.log" | tail -n 3 >"$work/failed/$key"
            return 0
        fi
        python3 -c 'import json,sys; print("\n".join(str(t) for t in json.load(open(sys.argv[1]))["results"][0]["times"]))' \
            "$work/h.json" >>"$work/times/$key"
    else
        for (( i = 0; i < warmup + runs; i++ )); do
            [[ -n $prepare ]] && eval "$prepare"
            rc=0
            t0=$EPOCHREALTIME
            eval "$cmd" </dev/null >/dev/null 2>"$work/loop.err" || rc=$?
            t1=$EPOCHREALTIME
            if (( rc != 0 )); then
                { echo "exit $rc on run $((i + 1)):"; tail -n 3 "$work/loop.err"; } >"$work/failed/$key"
                return 0
            fi
            if (( i >= warmup )); then echo "$t0 $t1" | awk '{ printf "%.6f\n", $2 - $1 }' >>"$work/times/$key"; fi
        done
    fi
}

# check KEY CMD: one run before timing; a command that fails is reported, not timed.
check() {
    local key=$1 cmd=$2 rc=0
    timeout 60 bash -c "$cmd" </dev/null >/dev/null 2>"$work/check.err" || rc=$?
    if (( rc != 0 )); then
        { echo "exit $rc:"; grep -v '^\s*$' "$work/check.err" | tail -n 2; } >"$work/failed/$key"
    fi
}

median_ms() {  # KEY -> median in ms, or nothing
    [[ -s $work/times/$1 ]] || return 0
    python3 -c 'import statistics,sys; print("%.3f" % (1000 * statistics.median(float(l) for l in open(sys.argv[1]))))' "$work/times/$1"
}

# ---- the processes nsenter enters --------------------------------------------------------

# The holder is the ghostpod session leader whose command line names the vault; ghost init is
# its child. (Not through the socket with `ss -xp`: the holder is non-dumpable, so a user cannot
# read its /proc/PID/fd, while /proc/PID/stat and cmdline stay readable.)
holder_of() {
    local vault=$1 d pid
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [[ $(cat "$d/comm" 2>/dev/null) == ghostpod* ]] || continue  # ghostpod, or ghostpod-holder
        [[ $(pid_field "$pid" 3) == "$pid" ]] || continue
        tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qxF -- "$vault" && { echo "$pid"; return 0; }
    done
    return 1
}
ghost_init_of() {
    local vault=$1 pid holder
    # status --json names it once the session is part of the status
    pid=$("$G" --vault "$vault" status --json 2>/dev/null |
          python3 -c 'import json,sys; s=json.load(sys.stdin).get("session") or {}; print(s.get("ghost_pid") or "")' 2>/dev/null) || pid=""
    if [[ -n $pid ]]; then echo "$pid status"; return 0; fi
    holder=$(holder_of "$vault") || return 1
    pid=$(child_of "$holder") || return 1
    echo "$pid proc"
}

# ---- set up ------------------------------------------------------------------------------
for v in "$VW" "$VC"; do
    "$G" --vault "$v" --passphrase-fd 3 init --kdf interactive 3<<<"$PASS" >/dev/null 2>"$work/init.err" ||
        die "init $v failed: $(cat "$work/init.err")"
done
"$G" --vault "$VW" --passphrase-fd 3 run --linger 10m -- true 3<<<"$PASS" 2>"$work/start.err" ||
    die "starting the warm session failed: $(cat "$work/start.err")"
read -r ghost found_by < <(ghost_init_of "$VW") || die "no ghost init found for $VW"
holder=$(pid_field "$ghost" 1) || die "ghost init $ghost vanished"

if (( EUID == 0 )); then
    ns_flags="-m -p -i"                     # the ghost has no user namespace as root
    unshare -m -p -i --fork --kill-child sleep 3600 2>"$work/standin.err" &
else
    ns_flags="-U -m -p -i --preserve-credentials"
    unshare -U -r -m -p -i --fork --kill-child sleep 3600 2>"$work/standin.err" &
fi
standin=$!
for _ in $(seq 100); do standin_init=$(child_of "$standin") && break; sleep 0.02; done
[[ -n $standin_init ]] || die "the stand-in namespaces (unshare) did not start"

warm="$G --vault $VW run -- /bin/true"
cold="$G --vault $VC --passphrase-fd 3 run --linger 0 -- /bin/true 3<<<$PASS"
unlock="$G --vault $VC --passphrase-fd 3 secret ls 3<<<$PASS"
no_session="$G --vault $VC lock >/dev/null 2>&1 || true"  # ends a one-shot session still closing

fast_keys=(warm floor start ns_ghost ns_standin unshare bwrap)
declare -A cmd label
cmd[warm]=$warm;                                   label[warm]="ghostpod run -- /bin/true (warm: joins)"
cmd[floor]="/bin/true";                            label[floor]="/bin/true (floor)"
cmd[start]="$G --version";                         label[start]="ghostpod --version (its own start-up)"
cmd[ns_ghost]="nsenter -t $ghost $ns_flags /bin/true"; label[ns_ghost]="nsenter $ns_flags into ghost init"
cmd[ns_standin]="nsenter -t $standin_init $ns_flags /bin/true"; label[ns_standin]="nsenter $ns_flags into unshare stand-in"
cmd[unshare]="unshare -Urm /bin/true";             label[unshare]="unshare -Urm /bin/true"
cmd[bwrap]="bwrap --unshare-user --unshare-pid --dev-bind / / /bin/true"
label[bwrap]="bwrap --unshare-user --unshare-pid /bin/true"
cmd[cold]=$cold;                                   label[cold]="ghostpod run -- /bin/true (cold one-shot)"
cmd[unlock]=$unlock;                               label[unlock]="unlock alone (secret ls, interactive KDF)"

command -v bwrap >/dev/null || echo "bwrap not installed (apt-get install bubblewrap)" >"$work/failed/bwrap"
for key in "${fast_keys[@]}"; do [[ -e $work/failed/$key ]] || check "$key" "${cmd[$key]}"; done
eval "$no_session"
check cold "$cold"
check unlock "$unlock"

# ---- measure -----------------------------------------------------------------------------
for (( r = 0; r < ROUNDS; r++ )); do
    for key in "${fast_keys[@]}"; do measure "$key" $((N_FAST / ROUNDS)) 2 exec "" "${cmd[$key]}"; done
    measure cold $((N_COLD / ROUNDS)) 0 shell "$no_session" "$cold"
    measure unlock $((N_COLD / ROUNDS)) 0 shell "" "$unlock"
done
holder_after=$(holder_of "$VW" || echo none)

# ---- report ------------------------------------------------------------------------------
warm_ms=$(median_ms warm)
echo "ghostpod session benchmark: $(id -un) (uid $EUID), ghost $( ((EUID == 0)) && echo "mount+pid+ipc ns" || echo "user+mount+pid+ipc ns")"
echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r), timer: $timer, medians"
echo "binary $G ($($G --version 2>&1 | head -n 1), built $(date -r "$G" '+%F %T'))"
echo "ghost init pid $ghost (found by $found_by; holder $holder), stand-in pid $standin_init"
echo
printf '%-62s %4s %12s %10s\n' "" n "median ms" "row/warm"
row() {  # LABEL N MS
    local ratio="-"
    [[ -n $3 && -n $warm_ms ]] && ratio=$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$3" "$warm_ms")
    printf '%-62s %4s %12s %10s\n' "$1" "$2" "$3" "$ratio"
}
for key in "${fast_keys[@]}" cold unlock; do
    if [[ -e $work/failed/$key ]]; then
        printf '%-62s %4s %12s %10s\n' "${label[$key]}" - n/a -
    else
        row "${label[$key]}" "$(wc -l <"$work/times/$key")" "$(median_ms "$key")"
    fi
done
cold_ms=$(median_ms cold); unlock_ms=$(median_ms unlock)
if [[ -n $cold_ms && -n $unlock_ms ]]; then
    row "cold - unlock alone (session setup)" - "$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[1]) - float(sys.argv[2])))' "$cold_ms" "$unlock_ms")"
fi

echo
for key in "${fast_keys[@]}" cold unlock; do
    [[ -e $work/failed/$key ]] || continue
    echo "n/a ${label[$key]}: ${cmd[$key]:-}"
    sed 's/^/    /' "$work/failed/$key"
done
[[ $holder_after == "$holder" ]] || echo "note: the warm session's holder changed during the run ($holder -> $holder_after): some warm runs did not join"
target=ns_ghost
[[ -e $work/failed/ns_ghost ]] && target=ns_standin
target_ms=$(median_ms $target)
if [[ -n $warm_ms && -n $target_ms ]]; then
    verdict=$(python3 -c 'import sys; w, n = map(float, sys.argv[1:]); print(("met" if w <= n else "missed") + ": warm run = %.2f x nsenter" % (w / n))' "$warm_ms" "$target_ms")
    echo "target (warm run no slower than ${label[$target]}): $verdict"
fi
