#!/usr/bin/env bash
# The figures of the speed issue's table (issue 16), for the user running this script, each
# next to its floor or peer measured in the same run, alternately:
#   warm join     `ghostpod run -- /bin/true` into a lingering session vs
#                 `nsenter -t <ghost init> -m -p -i /bin/true` (as a user: -U too, and when the
#                 ghost's namespaces are closed to nsenter, an unshare stand-in with the same
#                 namespaces); once on a terminal (both under pty_run, built here from
#                 pty_run.c: a new pseudo-terminal on fds 0-2, so the join relays one; `script
#                 -qec` sleeps 20 ms per run in its own polls) and once without
#   start-up      `ghostpod --version` vs /bin/true, and a C++ hello with libstdc++ built here
#   refresh       `ghostpod pull --no-shell -q` into a running session, 1,000 and 10,000 secrets,
#                 vs curl doing login + GET of the same answer from the same local fake server
#   first pull    a one-shot `ghostpod pull -q -- true` with no session, minus the unlock alone
#                 (`secret ls` on the same vault), at 10,000 secrets, vs the same curl
#   holder peak   the holder's peak RSS over one 10,000-secret refresh (VmHWM after a reset
#                 through /proc/PID/clear_refs; where the user may not reset it, the largest
#                 VmRSS sampled every millisecond) vs curl's peak RSS (/usr/bin/time) for the
#                 GET alone
#
#   GHOSTPOD=build/ghostpod SUMMARY_TSV=/tmp/s.tsv tests/bench/bench_summary.sh
#
# stdout: every command's median and run count (the details); SUMMARY_TSV (when set): one line
# per row of the issue's table, tab-separated: figure, user, ghostpod, floor/peer, ratio, goal,
# mark (pass, fail, or n/a when the benchmark failed). Goals are reported, never asserted: the
# script exits non-zero only when a benchmark could not be measured.
#
# Alternation: hyperfine runs all of one command's runs before the next command's, so each
# group of commands is measured in ROUNDS rounds, one hyperfine invocation per round with every
# command of the group (PER runs each, the order reversed every other round): a change in load
# mid-run shifts every command of a group, not one. Fast rows: FAST_ROUNDS (20) x FAST_PER (5);
# pull rows: SLOW_ROUNDS (5) x SLOW_PER (2); PEAK_RUNS (3) peaks each; NS ("1000 10000").
# The pull rows run a small bash script per command (both sides: one bash start-up each).
set -euo pipefail

G=${GHOSTPOD:-"$(dirname "$0")/../../build/ghostpod"}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_lib.sh"
FAKE=${FAKE_INFISICAL:-$HERE/../support/fake_infisical.py}
FAST_ROUNDS=${FAST_ROUNDS:-20}
FAST_PER=${FAST_PER:-5}
SLOW_ROUNDS=${SLOW_ROUNDS:-5}
SLOW_PER=${SLOW_PER:-2}
PEAK_RUNS=${PEAK_RUNS:-3}
NS=${NS:-"1000 10000"}
N_FIRST=10000
PASS=bench-passphrase

die() { echo "bench_summary: $*" >&2; exit 1; }
[[ -x $G ]] || die "no ghostpod binary at $G (set GHOSTPOD)"
G=$(realpath "$G")
[[ -f $FAKE ]] || die "no fake server at $FAKE (set FAKE_INFISICAL)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed (scripts/install-deps.sh installs it: Debian's time)"
for tool in hyperfine curl openssl python3 nsenter unshare cc c++; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

work=$(mktemp -d)
vaults=() server_pids=() standin="" standin_init=""
cleanup() {
    local rc=$? v p
    trap - EXIT INT TERM
    for v in "${vaults[@]}"; do "$G" --vault "$v" lock >/dev/null 2>&1 || true; done
    for p in "${server_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    # unshare --fork ignores SIGTERM, and the stand-in's init ignores what it has no handler for
    if [[ -n $standin ]]; then kill -KILL "${standin_init:-$standin}" 2>/dev/null || true; wait "$standin" 2>/dev/null || true; fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/home" "$work/config" "$work/data" "$work/times" "$work/failed" "$work/cmd"
export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data  # no user config
cd "$work"

calc() { python3 -c "import sys; print($1)" "${@:2}"; }
median() {  # KEY -> median of times/KEY (as stored), or nothing
    [[ -s $work/times/$1 ]] || return 0
    python3 -c 'import statistics,sys; print(statistics.median(float(l) for l in open(sys.argv[1])))' "$work/times/$1"
}
ms() { [[ -n $1 ]] && calc '"%.2f" % (1000 * float(sys.argv[1]))' "$1"; }
fail() {  # KEY TEXT: KEY could not be measured
    [[ -e $work/failed/$1 ]] || printf '%s\n' "$2" >"$work/failed/$1"
}
script_file() {  # NAME BODY: writes cmd/NAME.sh, prints its path
    printf '#!/bin/bash\nset -euo pipefail\n%s\n' "$2" >"$work/cmd/$1.sh"
    echo "$work/cmd/$1.sh"
}

# check KEY CMD: one run before timing (through bash); a command that fails is not timed.
check() {
    local rc=0
    timeout 120 bash -c "$2" </dev/null >/dev/null 2>"$work/check.err" || rc=$?
    if (( rc != 0 )); then fail "$1" "exit $rc: $(grep -v '^\s*$' "$work/check.err" | tail -n 2 | tr '\n' ' ')"; fi
    return 0
}

# alternate ROUNDS PER WARMUP KEY...: times cmd[KEY] (prepare[KEY] before each run, untimed) for
# every KEY together, ROUNDS hyperfine invocations of PER runs each; times/KEY gets seconds.
declare -A cmd prepare label
alternate() {
    local rounds=$1 per=$2 warmup=$3 r i key keys=() order args
    shift 3
    for key in "$@"; do [[ -e $work/failed/$key ]] || keys+=("$key"); done
    ((${#keys[@]})) || return 0
    for (( r = 0; r < rounds; r++ )); do
        order=("${keys[@]}")
        if (( r % 2 )); then order=(); for (( i = ${#keys[@]} - 1; i >= 0; i-- )); do order+=("${keys[$i]}"); done; fi
        args=(-N --style none --runs "$per" --warmup "$warmup" --export-json "$work/h.json")
        for key in "${order[@]}"; do args+=(--prepare "${prepare[$key]:-true}"); done
        for key in "${order[@]}"; do args+=(-n "$key" "${cmd[$key]}"); done
        if ! hyperfine "${args[@]}" >"$work/h.log" 2>&1; then
            for key in "${order[@]}"; do fail "$key" "hyperfine: $(grep -v '^\s*$' "$work/h.log" | tail -n 2 | tr '\n' ' ')"; done
            return 0
        fi
        python3 - "$work/h.json" "$work/times" <<'EOF'
import json, sys
for res in json.load(open(sys.argv[1]))["results"]:
    with open(f"{sys.argv[2]}/{res['command']}", "a") as f:
        f.write("".join(f"{t}\n" for t in res["times"]))
EOF
    done
}

# ---- rows of the summary ---------------------------------------------------------------------
rows=()
user=$(id -un)
# row FIGURE GHOSTPOD_TEXT PEER_TEXT RATIO GOAL: RATIO empty when a side is missing
row() {
    local mark=n/a ratio=n/a
    if [[ -n $4 ]]; then
        ratio=$(calc '"%.2f×" % float(sys.argv[1])' "$4")
        mark=$(calc '"pass" if float(sys.argv[1]) <= float(sys.argv[2]) else "fail"' "$4" "$5")
    fi
    rows+=("$1"$'\t'"$user"$'\t'"$2"$'\t'"$3"$'\t'"$ratio"$'\t'"≤ $5×"$'\t'"$mark")
}
ratio_of() {  # A B -> A/B, or nothing when either is empty
    [[ -n $1 && -n $2 ]] && calc '"%.4f" % (float(sys.argv[1]) / float(sys.argv[2]))' "$1" "$2"
    return 0
}
or_na() { if [[ -n $1 ]]; then echo "$1 $2"; else echo "n/a"; fi; }

# ---- warm join and start-up -------------------------------------------------------------------
session_field() {  # VAULT FIELD[.FIELD] -> that field of status --json's session, or nothing
    "$G" --vault "$1" status --json 2>/dev/null |
        python3 -c '
import json, sys
v = json.load(sys.stdin).get("session") or {}
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$2"
}
init_vault() {  # PATH [identity]
    mkdir -p "$(dirname "$1")"
    "$G" --vault "$1" --passphrase-fd 3 init --kdf interactive 3<<<"$PASS" >/dev/null 2>"$work/init.err" ||
        die "init $1: $(cat "$work/init.err")"
    vaults+=("$1")
    if [[ ${2:-} == identity ]]; then
        printf 'id\nsecret\n' | "$G" --vault "$1" --passphrase-fd 3 identity set 3<<<"$PASS" >/dev/null 2>"$work/init.err" ||
            die "identity set $1: $(cat "$work/init.err")"
    fi
}

VW=$work/warm/vault
init_vault "$VW"
"$G" --vault "$VW" --passphrase-fd 3 run --linger 30m -- true 3<<<"$PASS" 2>"$work/start.err" ||
    die "starting the warm session failed: $(cat "$work/start.err")"
ghost=$(session_field "$VW" ghost_pid)
[[ -n $ghost ]] || die "status --json names no ghost init for the warm session"
holder=$(session_field "$VW" holder_pid)
if (( EUID == 0 )); then ns_flags="-m -p -i"; else ns_flags="-U -m -p -i --preserve-credentials"; fi
ns_target=$ghost ns_label="nsenter -t <ghost init> $ns_flags /bin/true"
if ! nsenter -t "$ghost" $ns_flags /bin/true 2>"$work/ns.err"; then
    # A rootless ghost's init is not dumpable: its /proc/PID/ns/user is closed to nsenter
    ns_why=$(head -n 1 "$work/ns.err")
    if (( EUID == 0 )); then
        unshare -m -p -i --fork --kill-child sleep 3600 2>"$work/standin.err" &
    else
        unshare -U -r -m -p -i --fork --kill-child sleep 3600 2>"$work/standin.err" &
    fi
    standin=$!
    for _ in $(seq 100); do standin_init=$(child_of "$standin") && break; sleep 0.02; done
    [[ -n $standin_init ]] || die "the stand-in namespaces (unshare) did not start: $(cat "$work/standin.err")"
    ns_target=$standin_init ns_label="nsenter -t <unshare stand-in> $ns_flags /bin/true"
fi

printf '#include <iostream>\nint main() { std::cout << "hello\\n"; }\n' >hello.cpp
c++ -O2 -o hello hello.cpp 2>"$work/hello.err" || fail hello "c++: $(head -n 2 "$work/hello.err" | tr '\n' ' ')"
[[ -f $HERE/pty_run.c ]] || die "no $HERE/pty_run.c"
cc -O2 -o pty_run "$HERE/pty_run.c" 2>"$work/pty.err" || die "cc pty_run.c: $(head -n 2 "$work/pty.err")"
P=$work/pty_run

cmd[warm]="$G --vault $VW run -- /bin/true";                        label[warm]="ghostpod run -- /bin/true (warm, no terminal)"
cmd[nsenter]="nsenter -t $ns_target $ns_flags /bin/true";           label[nsenter]=$ns_label
cmd[warm_tty]="$P $G --vault $VW run -- /bin/true";                 label[warm_tty]="pty_run ghostpod run -- /bin/true (terminal: pty relay)"
cmd[nsenter_tty]="$P nsenter -t $ns_target $ns_flags /bin/true";    label[nsenter_tty]="pty_run $ns_label"
cmd[pty_true]="$P /bin/true";                                        label[pty_true]="pty_run /bin/true (the terminal wrapper alone)"
cmd[version]="$G --version";                                         label[version]="ghostpod --version"
cmd[true]="/bin/true";                                               label[true]="/bin/true"
cmd[hello]="$work/hello";                                            label[hello]="C++ hello with libstdc++ (c++ -O2, built in this run)"
join_keys=(warm nsenter warm_tty nsenter_tty pty_true)
start_keys=(version true hello)
for key in "${join_keys[@]}" "${start_keys[@]}"; do [[ -e $work/failed/$key ]] || check "$key" "${cmd[$key]}"; done
# the terminal case: the command in the ghost must have a terminal on its stdin and stdout
tty_in="a terminal"
"$P" "$G" --vault "$VW" run -- sh -c 'test -t 0 && test -t 1' || { tty_in="NOT a terminal"; fail warm_tty "the command had no terminal"; }
alternate "$FAST_ROUNDS" "$FAST_PER" 2 "${join_keys[@]}"
alternate "$FAST_ROUNDS" "$FAST_PER" 2 "${start_keys[@]}"
holder_after=$(session_field "$VW" holder_pid)

# ---- pull: a throwaway CA, a fake server per N, sessions, one-shot vaults ---------------------
bench_certs bench_summary


declare -A base get_cmd
pull_n=$NS
[[ " $NS " == *" $N_FIRST "* ]] || pull_n="$NS $N_FIRST"
for n in $pull_n; do
    d=$work/n$n
    mkdir -p "$d"
    make_world "$n" "$d/world.json"
    python3 "$FAKE" --world "$d/world.json" --ready-file "$d/port" --tls-cert server.pem --tls-key server.key \
        >"$d/server.log" 2>&1 &
    server_pids+=($!)
    for _ in $(seq 200); do [[ -s $d/port ]] && break; sleep 0.05; done
    [[ -s $d/port ]] || die "the fake server for N=$n did not start: $(cat "$d/server.log")"
    base[$n]=https://127.0.0.1:$(cat "$d/port")
    cat >"$d/config.json" <<EOF
{"version": 1,
 "infisical": {"host": "${base[$n]}", "project_id": "bench-proj", "environment": "dev", "cacert": "$CA"}}
EOF
    query="projectId=bench-proj&environment=dev&secretPath=/&recursive=false&includeImports=true&expandSecretReferences=true&viewSecretValue=true"
    cmd[curl_$n]="bash $(script_file "curl_$n" "$(cat <<EOF
resp=\$(curl -sS --fail --cacert "$CA" -H 'Content-Type: application/json' \\
    --data-binary '{"clientId":"id","clientSecret":"secret"}' "${base[$n]}/api/v1/auth/universal-auth/login")
[[ \$resp =~ \"accessToken\":\"([^\"]+)\" ]] || { echo "no token in the login answer" >&2; exit 1; }
curl -sS --fail --cacert "$CA" -H "Authorization: Bearer \${BASH_REMATCH[1]}" -o /dev/null "${base[$n]}/api/v4/secrets?$query"
EOF
)")"
    label[curl_$n]="curl login + GET, $n secrets"
    check "curl_$n" "${cmd[curl_$n]}"
    # the GET alone, for curl's peak RSS (a token from one login)
    resp=$(curl -sS --fail --cacert "$CA" -H 'Content-Type: application/json' \
        --data-binary '{"clientId":"id","clientSecret":"secret"}' "${base[$n]}/api/v1/auth/universal-auth/login") || resp=""
    token=""
    [[ $resp =~ \"accessToken\":\"([^\"]+)\" ]] && token=${BASH_REMATCH[1]}
    printf 'header = "Authorization: Bearer %s"\n' "$token" >"$d/curl_get.cfg"
    get_cmd[$n]="curl -sS --fail --cacert $CA -K $d/curl_get.cfg -o /dev/null ${base[$n]}/api/v4/secrets?$query"

    # a running session: the refresh
    VS=$d/session/vault
    init_vault "$VS" identity
    "$G" --vault "$VS" --config "$d/config.json" --passphrase-fd 3 pull --no-shell -q 3<<<"$PASS" 2>"$work/check.err" ||
        fail "refresh_$n" "starting the session: $(tail -n 2 "$work/check.err" | tr '\n' ' ')"
    cmd[refresh_$n]="bash $(script_file "refresh_$n" "\"$G\" --vault \"$VS\" --config \"$d/config.json\" pull --no-shell -q")"
    label[refresh_$n]="ghostpod pull refresh, $n secrets"
    check "refresh_$n" "${cmd[refresh_$n]}"
    got=$(session_field "$VS" pull.secrets) || got=""
    [[ -e $work/failed/refresh_$n || $got == "$n" ]] || fail "refresh_$n" "the session holds ${got:-no} pulled secrets, not $n"
done

# one-shot pulls at N_FIRST and the unlock alone of the same vault
d=$work/n$N_FIRST
VC=$d/cold/vault
init_vault "$VC" identity
cmd[first]="bash $(script_file first "\"$G\" --vault \"$VC\" --config \"$d/config.json\" --passphrase-fd 3 pull -q -- true 3<<<\"$PASS\"")"
prepare[first]="bash $(script_file lock_first "\"$G\" --vault \"$VC\" lock >/dev/null 2>&1 || true")"  # one still closing
label[first]="ghostpod pull -q -- true, no session, $N_FIRST secrets"
cmd[unlock]="bash $(script_file unlock "\"$G\" --vault \"$VC\" --passphrase-fd 3 secret ls 3<<<\"$PASS\"")"
label[unlock]="unlock alone: secret ls on the same vault"
cmd[curl_first]=${cmd[curl_$N_FIRST]}
label[curl_first]="curl login + GET, $N_FIRST secrets (first-pull group)"
check first "${cmd[first]}"  # also writes the offline cache: every unlock below reads the same vault
bash -c "${prepare[first]}"
check unlock "${cmd[unlock]}"
[[ -e $work/failed/curl_$N_FIRST ]] && fail curl_first "$(cat "$work/failed/curl_$N_FIRST")"

for n in $NS; do alternate "$SLOW_ROUNDS" "$SLOW_PER" 0 "refresh_$n" "curl_$n"; done
alternate "$SLOW_ROUNDS" "$SLOW_PER" 0 first unlock curl_first

# ---- peak RSS over one refresh at N_FIRST: the holder, then curl's GET, alternately -------------
cat >sample_rss.py <<'EOF'
# sample_rss.py PID CMD...: runs CMD, samples PID's VmRSS every millisecond meanwhile, prints the largest (KiB)
import subprocess, sys, time
def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
pid, peak = sys.argv[1], rss(sys.argv[1])
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
while p.poll() is None:
    peak = max(peak, rss(pid))
    time.sleep(0.001)
peak = max(peak, rss(pid))
print(peak)
sys.exit(p.returncode)
EOF
# peak_kib CMD...: the peak RSS (KiB) of CMD from its rusage (a forking wrapper in Python or
# bash would add its own pages, touched before the exec, to the child's peak)
peak_kib() { /usr/bin/time -f %M -o "$work/time.out" "$@" >/dev/null && tail -n 1 "$work/time.out"; }
VS=$work/n$N_FIRST/session/vault
peak_method="VmHWM after a reset through /proc/PID/clear_refs"
if [[ ! -e $work/failed/refresh_$N_FIRST ]]; then
    hpid=$(session_field "$VS" holder_pid)
    if ! { echo 5 >"/proc/$hpid/clear_refs"; } 2>/dev/null; then
        peak_method="largest VmRSS sampled every ms (clear_refs is closed to $user)"
    fi
    for (( i = 0; i < PEAK_RUNS; i++ )); do
        if [[ $peak_method == VmHWM* ]]; then
            echo 5 >"/proc/$hpid/clear_refs"
            bash "${cmd[refresh_$N_FIRST]#bash }" >/dev/null 2>"$work/peak.err" || { fail peak_holder "refresh: $(tail -n 1 "$work/peak.err")"; break; }
            awk '/^VmHWM:/ { print $2 }' "/proc/$hpid/status" >>"$work/times/peak_holder"
        else
            python3 sample_rss.py "$hpid" bash "${cmd[refresh_$N_FIRST]#bash }" >>"$work/times/peak_holder" 2>"$work/peak.err" ||
                { fail peak_holder "refresh: $(tail -n 1 "$work/peak.err")"; break; }
        fi
        peak_kib ${get_cmd[$N_FIRST]} >>"$work/times/peak_curl" 2>"$work/peak.err" ||
            { fail peak_curl "curl GET: $(tail -n 1 "$work/peak.err")"; break; }
    done
else
    fail peak_holder "no session at $N_FIRST secrets"
fi
label[peak_holder]="holder peak RSS over one refresh, $N_FIRST secrets"
label[peak_curl]="curl peak RSS, the GET of $N_FIRST secrets"

# ---- details ----------------------------------------------------------------------------------
echo "ghostpod summary benchmark: $user (uid $EUID), ghost $( ((EUID == 0)) && echo "mount+pid+ipc ns" || echo "user+mount+pid+ipc ns")"
echo "binary $G ($("$G" --version 2>&1 | head -n 1), built $(date -r "$G" '+%F %T')); $(hyperfine --version)"
echo "load $(cut -d' ' -f1-3 /proc/loadavg); ghost init $ghost (holder $holder), nsenter target $ns_target${ns_why:+ (ghost init refused: $ns_why)}"
echo "terminal case: under pty_run the command's stdin and stdout in the ghost are $tty_in"
echo "alternation: join and start-up $FAST_ROUNDS rounds x $FAST_PER runs, pull $SLOW_ROUNDS rounds x $SLOW_PER runs; medians"
echo
printf '%-74s %4s %12s\n' "" n median
for key in "${join_keys[@]}" "${start_keys[@]}" $(for n in $NS; do echo "refresh_$n curl_$n"; done) first unlock curl_first; do
    if [[ -e $work/failed/$key ]]; then printf '%-74s %4s %12s\n' "${label[$key]}" - n/a
    else printf '%-74s %4s %9s ms\n' "${label[$key]}" "$(wc -l <"$work/times/$key")" "$(ms "$(median "$key")")"; fi
done
for key in peak_holder peak_curl; do
    if [[ -e $work/failed/$key || ! -s $work/times/$key ]]; then printf '%-74s %4s %12s\n' "${label[$key]}" - n/a
    else printf '%-74s %4s %8s MiB\n' "${label[$key]}" "$(wc -l <"$work/times/$key")" "$(calc '"%.1f" % (float(sys.argv[1]) / 1024)' "$(median "$key")")"; fi
done
echo "(holder peak: $peak_method)"
[[ $holder_after == "$holder" ]] || echo "note: the warm session's holder changed during the run ($holder -> $holder_after): some warm runs did not join"
for f in "$work"/failed/*; do
    [[ -e $f ]] || continue
    echo "n/a ${label[$(basename "$f")]:-$(basename "$f")}: $(cat "$f")"
done

# ---- the rows ---------------------------------------------------------------------------------
m() { median "$1"; }  # seconds, or nothing when the key failed
get() { [[ -e $work/failed/$1 ]] || m "$1"; }
w=$(get warm) n_=$(get nsenter)
row "warm join \`run -- /bin/true\`, no terminal" "$(or_na "$(ms "$w")" ms)" "\`$ns_label\` $(or_na "$(ms "$n_")" ms)" "$(ratio_of "$w" "$n_")" 1.0
w=$(get warm_tty) n_=$(get nsenter_tty)
s_=$(get pty_true)
row "warm join \`run -- /bin/true\`, on a terminal (pty relay)" "$(or_na "$(ms "$w")" ms)" "the same nsenter, both under tests/bench/pty_run.c: $(or_na "$(ms "$n_")" ms) (the wrapper alone: $(or_na "$(ms "$s_")" ms))" "$(ratio_of "$w" "$n_")" 1.0
v=$(get version) t=$(get true) h=$(get hello)
hello_text="n/a"
[[ -n $h && -n $t ]] && hello_text="$(ms "$h") ms, $(calc '"%.2f×" % (float(sys.argv[1]) / float(sys.argv[2]))' "$h" "$t")"
row "start-up \`ghostpod --version\`" "$(or_na "$(ms "$v")" ms)" "\`/bin/true\` $(or_na "$(ms "$t")" ms) (a C++ hello with libstdc++: $hello_text)" "$(ratio_of "$v" "$t")" 2.0
for n in $NS; do
    r=$(get "refresh_$n") c=$(get "curl_$n")
    goal=1.5; (( n < 10000 )) && goal=1.0
    row "\`pull\` refresh, $(calc '"{:,}".format(int(sys.argv[1]))' "$n") secrets" "$(or_na "$(ms "$r")" ms)" "curl login + GET $(or_na "$(ms "$c")" ms)" "$(ratio_of "$r" "$c")" "$goal"
done
p=$(get first) u=$(get unlock) c=$(get curl_first) beyond=""
[[ -n $p && -n $u ]] && beyond=$(calc '"%.6f" % (float(sys.argv[1]) - float(sys.argv[2]))' "$p" "$u")
row "first pull beyond the unlock, 10,000" "$(or_na "$(ms "$beyond")" ms) ($(or_na "$(ms "$p")" ms) − unlock $(or_na "$(ms "$u")" ms))" "curl $(or_na "$(ms "$c")" ms)" "$(ratio_of "$beyond" "$c")" 2.5
ph="" pc=""
[[ -e $work/failed/peak_holder ]] || ph=$(m peak_holder)
[[ -e $work/failed/peak_curl ]] || pc=$(m peak_curl)
mib() { [[ -n $1 ]] && calc '"%.1f MiB" % (float(sys.argv[1]) / 1024)' "$1" || echo n/a; }
holder_note=""; [[ $peak_method == VmHWM* ]] || holder_note=" (sampled)"
row "holder peak over one 10,000 refresh" "$(mib "$ph")$holder_note" "curl $(mib "$pc")" "$(ratio_of "$ph" "$pc")" 1.5

if [[ -n ${SUMMARY_TSV:-} ]]; then printf '%s\n' "${rows[@]}" >"$SUMMARY_TSV"; fi
echo
printf '%s\n' "${rows[@]}" | awk -F'\t' '{ printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; print "" }'
# a figure that could not be measured fails the benchmark; a goal missed does not
for f in "$work"/failed/*; do [[ -e $f ]] && exit 1; done
exit 0
