#!/usr/bin/env bash
# The demo: installs dependencies, builds ghostpod, and walks through a throwaway vault in a
# temporary directory — init, store, list, read back, a wrong passphrase, a passphrase change
# and a recovery — then removes everything it made.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" release ghostpod >/dev/null
gp="$root/build/ghostpod"

work=$(mktemp -d /tmp/ghostpod-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
vault="$work/vault"
pass='demo passphrase: correct horse battery staple'
bold='' plain=''
if [[ -t 1 && -z ${NO_COLOR:-} ]]; then bold=$'\033[1m' plain=$'\033[0m'; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# The passphrase always travels on file descriptor 3, never in argv or the environment.
run() { "$gp" --vault "$vault" --passphrase-fd 3 "$@" 3< <(printf '%s\n' "$pass"); }

step "ghostpod init --kdf interactive (a throwaway vault in $work)"
recovery=$(run init --kdf interactive)
echo "recovery key printed once on stdout (kept in a shell variable for this demo)"

step "store a kubeconfig from a file, a token from stdin, and binary bytes"
cat > "$work/kubeconfig" <<'YAML'
apiVersion: v1
kind: Config
current-context: demo
contexts: [{name: demo, context: {cluster: demo, user: demo}}]
YAML
run secret set kube/config --file "$work/kubeconfig"
rm "$work/kubeconfig"
printf 'tok-%s' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" | run secret set infisical/token --kind identity
head -c 64 /dev/urandom > "$work/random.bin"
run secret set blob < "$work/random.bin"

step "ghostpod secret ls (names and metadata, never values)"
run secret ls

step "ghostpod secret get kube/config (bytes exact)"
run secret get kube/config
run secret get blob | cmp - "$work/random.bin" && echo "blob: 64 random bytes read back identical"

step "a wrong passphrase is refused with exit 3"
set +e
"$gp" --vault "$vault" --passphrase-fd 3 secret get blob 3< <(echo 'not the passphrase') >/dev/null
echo "exit code: $?"
set -e

step "ghostpod passwd: the data key is re-wrapped, the payload is not re-encrypted"
"$gp" --vault "$vault" --passphrase-fd 3 passwd --new-passphrase-fd 4 3< <(printf '%s\n' "$pass") 4< <(echo 'a new passphrase')
pass='a new passphrase'
run secret get infisical/token >/dev/null && echo "the new passphrase unlocks"

step "the recovery key unlocks when the passphrase is lost"
"$gp" --vault "$vault" --recovery-key-fd 5 secret ls 5< <(printf '%s\n' "$recovery")

# The ghost works on HOME's standard paths; give the demo a throwaway HOME of its own.
export HOME="$work/home"
mkdir -p "$HOME"

step "ghostpod run: the kubeconfig exists at ~/.kube/config inside the ghost only"
run run -- sh -c 'echo "inside:  $(grep current-context ~/.kube/config)  KUBECONFIG=$KUBECONFIG"; echo "         \$GHOSTPOD_DIR holds: $(cd "$GHOSTPOD_DIR" && find . -type f ! -path "./.ghostpod-shadow/*" | sort | tr "\n" " ")"'
if [[ -e $HOME/.kube/config ]]; then echo "outside: ~/.kube/config EXISTS" >&2; exit 1; fi
echo "outside: ~/.kube/config does not exist; the one-shot session has ended"

step "a session that lingers: join it without a passphrase, then lock it"
run run --linger 5m -- true
"$gp" --vault "$vault" run -- sh -c 'echo "joined: pid $$ in the ghost, capabilities $(grep CapEff /proc/self/status | cut -f2), seccomp $(grep ^Seccomp: /proc/self/status | cut -f2)"'
"$gp" --vault "$vault" status | sed -n '/^session/,/RAM mount/p'
"$gp" --vault "$vault" lock
"$gp" --vault "$vault" lock 2>/dev/null || echo "lock again: exit $? (no session running)"

step "ghostpod status (no passphrase needed)"
"$gp" --vault "$vault" status

step "on disk: only ciphertext"
ls -l "$work"
if grep -q 'current-context' "$vault" "$vault.bak"; then echo "PLAINTEXT FOUND ON DISK" >&2; exit 1; fi
echo "no plaintext in the vault or its backup"
echo
echo "demo finished; $work is removed on exit"
