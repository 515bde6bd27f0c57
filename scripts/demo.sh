#!/usr/bin/env bash
# The demo, README's first command. Three phases, each announced:
#   1. packages: scripts/install-deps.sh (apt-get, through sudo when not root; nothing to do when
#      every package is present);
#   2. build: scripts/build.sh release ghostpod, into build/;
#   3. the demo: a local Infisical-compatible server over TLS on 127.0.0.1 (a throwaway CA made
#      here), a throwaway vault holding only a machine identity -> `ghostpod pull -- <script>`: an
#      age key, a talosconfig and a kubeconfig appear at their default paths inside the ghost (and
#      age decrypts with that key), absent outside -> a session left running, then `ghostpod lock`,
#      the token revoked, and the proof that nothing remains; then a local Vault-compatible server
#      (tests/support/fake_vault.py): an AppRole, a KV secret, and a kube client certificate that
#      Vault's PKI signs for this session only (kubectl reads it, openssl verifies it; it dies with
#      the session and the token is revoked at lock). Everything it made is removed on exit.
# It ends by saying where the binary is and how to install it or put it on PATH.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gp="$root/build/ghostpod"
bold='' plain=''
if [[ -t 1 && -z ${NO_COLOR:-} ]]; then bold=$'\033[1m' plain=$'\033[0m'; fi
phase() { printf '\n%s==== %s%s\n' "$bold" "$*" "$plain"; }
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
sudo=''
if [[ $(id -u) -ne 0 ]]; then sudo='sudo '; fi

phase "1/3 packages: scripts/install-deps.sh (apt-get; a few minutes on a fresh machine)"
if [[ -n $sudo ]]; then
  if command -v sudo >/dev/null 2>&1; then
    echo "not root: apt-get runs through sudo if a package is missing, so sudo may ask for your password"
  else
    echo "not root and no sudo: if a package is missing, run scripts/install-deps.sh as root first"
  fi
fi
# Only install-deps' own lines (what is missing, or that all is present): apt's are noise here.
SUDO_PROMPT="[sudo] install-deps runs apt-get as root; password for %p: " \
  "$root/scripts/install-deps.sh" | sed -u -n 's/^install-deps: /  /p'

phase "2/3 build: scripts/build.sh release ghostpod (cmake + ninja into build/; a few minutes the first time)"
# On a terminal ninja keeps to one status line; in a log its line per file is left out.
if [[ -t 1 ]]; then
  "$root/scripts/build.sh" release ghostpod  # ends with its own "build: <binary>" line
else
  "$root/scripts/build.sh" release ghostpod >/dev/null
  echo "  built $gp"
fi

phase "3/3 the demo: local Infisical- and Vault-compatible servers, a throwaway vault, a ghost"
work=$(mktemp -d /tmp/ghostpod-demo-XXXXXX)
server_pid= vault_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n $vault_pid ]] && kill "$vault_pid" 2>/dev/null && wait "$vault_pid" 2>/dev/null
  "$gp" --vault "$work/project/.ghostpod/vault" lock >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
pass='demo passphrase: correct horse battery staple'
# The passphrase always travels on file descriptor 3, never in argv or the environment.
gpp() { "$gp" --passphrase-fd 3 "$@" 3< <(printf '%s\n' "$pass"); }

step "a throwaway CA and a TLS certificate for 127.0.0.1 (openssl)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=ghostpod demo CA" \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$work/server.pem" 2>/dev/null
echo "CA: $work/ca.pem"

step "the local Infisical-compatible server (tests/support/fake_infisical.py) on 127.0.0.1 over TLS"
# What the server holds stands in for a real Infisical project: a machine identity, an age key
# (made here with age-keygen), a talosconfig and a kubeconfig. It gets them on a pipe, not a file.
age_key=$(age-keygen 2>/dev/null)
recipient=$(printf '%s\n' "$age_key" | age-keygen -y)
client_secret=$(head -c 18 /dev/urandom | base64)
kube_token="kube-token-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# The values reach python on its stdin, never its argv.
world=$(printf '%s\0%s\0%s' "$age_key" "$client_secret" "$kube_token" | python3 -c '
import json, sys
age_key, client_secret, kube_token = sys.stdin.read().split("\0")
talos = "context: demo\ncontexts:\n  demo:\n    endpoints: [10.0.0.2]\n    ca: LS0tLS1CRUdJTi...\n    crt: LS0tLS1CRUdJTi...\n    key: LS0tLS1CRUdJTi...\n"
kube = ("apiVersion: v1\nkind: Config\ncurrent-context: demo\nclusters:\n- name: demo\n  cluster: {server: https://10.0.0.2:6443}\n"
        "contexts:\n- name: demo\n  context: {cluster: demo, user: admin}\nusers:\n- name: admin\n  user: {token: " + kube_token + "}\n")
print(json.dumps({
  "identities": [{"clientId": "demo-machine-identity", "clientSecret": client_secret}],
  "projects": {"demo-project": {"slug": "demo", "environments": {
    "prod": {"folders": {
      "/": {"secrets": {"SOPS_AGE_KEY": age_key + "\n", "KUBECONFIG": kube, "CLUSTER_NAME": "demo-${REGION}", "REGION": "eu-west"}},
      "/talos": {"secrets": {"TALOSCONFIG": talos}}}}}}}}))
')
python3 "$root/tests/support/fake_infisical.py" --world <(printf '%s' "$world") --ready-file "$work/ready" \
  --tls-cert "$work/server.pem" --tls-key "$work/server.key" --log "$work/server-log.jsonl" &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/ready ]] && break; sleep 0.1; done
port=$(cat "$work/ready")
echo "listening on https://127.0.0.1:$port (pid $server_pid)"

step "a project with a throwaway vault: ghostpod init, and the machine identity stored from stdin"
mkdir -p "$work/project" && cd "$work/project"
# init notes on stderr that the recovery key follows, and writes the key alone on stdout.
recovery_key=$(gpp init --kdf interactive)
echo "  the recovery key, init's standard output: $recovery_key"
echo "  (shown here because this vault is thrown away; keep a real one's offline)"
printf '%s\n%s\n' demo-machine-identity "$client_secret" | gpp identity set
echo "the recovery key unlocks the vault too (ghostpod --recovery-key-fd 3 identity show):"
"$gp" --recovery-key-fd 3 identity show 3< <(printf '%s\n' "$recovery_key") | sed 's/^/  /'
cat > .ghostpod/config.json <<JSON
{
  "version": 1,
  "infisical": {
    "host": "https://127.0.0.1:$port",
    "project_id": "demo-project",
    "environment": "prod",
    "paths": ["/", "/talos"],
    "cacert": "$work/ca.pem"
  }
}
JSON
echo ".ghostpod/config.json (no secrets; safe to commit):"
sed 's/^/  /' .ghostpod/config.json

# The ghost works on HOME's standard paths; give the demo a throwaway HOME of its own.
export HOME="$work/home"
mkdir -p "$HOME"
unset XDG_STATE_HOME XDG_CONFIG_HOME  # the trust store and user config then live in that HOME too
echo "a config found in a project is used only once you allow it (its path and SHA-256, in your state directory):"
"$gp" allow .ghostpod/config.json 2>&1 | sed 's/^/  /'
printf 'the launch code is 0000\n' | age -r "$recipient" -o "$work/message.age"
echo "encrypted $work/message.age to $recipient (outside the ghost: only the public recipient is needed)"

step "ghostpod pull -- <script>: log in, pull, run the script in the ghost"
gpp pull -- sh -c '
  echo "inside the ghost:"
  echo "  ~/.config/sops/age/keys.txt: $(grep -c AGE-SECRET-KEY ~/.config/sops/age/keys.txt) age identity   SOPS_AGE_KEY_FILE=$SOPS_AGE_KEY_FILE"
  echo "  ~/.talos/config:             $(head -1 ~/.talos/config)   TALOSCONFIG=$TALOSCONFIG"
  echo "  ~/.kube/config:              $(grep current-context ~/.kube/config)   KUBECONFIG=$KUBECONFIG"
  echo "  \$GHOSTPOD_DIR/infisical:     $(ls "$GHOSTPOD_DIR/infisical" | tr "\n" " ")"
  echo "  CLUSTER_NAME (a reference the server expanded): $(cat "$GHOSTPOD_DIR/infisical/CLUSTER_NAME")"
  echo "  age -d with the pulled key:  $(age -d -i "$SOPS_AGE_KEY_FILE" '"$work"'/message.age)"'
echo "outside the ghost:"
for path in .config/sops/age/keys.txt .talos/config .kube/config; do
  if [[ -e $HOME/$path ]]; then echo "  ~/$path EXISTS outside" >&2; exit 1; fi
  echo "  ~/$path does not exist"
done

step "ghostpod pull --no-shell: a session that stays up; other commands join it without the passphrase"
gpp pull --no-shell
"$gp" run -- sh -c 'echo "joined: $(grep current-context ~/.kube/config), capabilities $(grep CapEff /proc/self/status | cut -f2), seccomp $(grep ^Seccomp: /proc/self/status | cut -f2)"'
"$gp" status | sed -n '/^session/,$p'
pids=$("$gp" status --json | python3 -c 'import json,sys; s=json.load(sys.stdin)["session"]; print(s["holder_pid"], s["ghost_pid"])')

step "ghostpod lock: every process and plaintext gone, the token revoked"
"$gp" lock
python3 - "$work/server-log.jsonl" <<'PY'
import json, sys
log = [json.loads(line) for line in open(sys.argv[1])]
for e in log:
    print(f"  server saw: {e['method']:4} {e['path']:40} -> {e['status']}  token {e.get('token') or '-'}")
PY

step "the proof that nothing remains"
scan=("$HOME" "$work/project" /tmp /var/tmp /dev/shm)
needles=("${age_key##*$'\n'}" "$kube_token" "$client_secret")
found=0
for needle in "${needles[@]}"; do
  if grep -rlsF -e "$needle" "${scan[@]}" 2>/dev/null; then found=1; fi
done
if ((found)); then echo "PLAINTEXT FOUND" >&2; exit 1; fi
echo "  no age key, kubeconfig token or client secret in HOME, the project, /tmp, /var/tmp or /dev/shm"
for pid in $pids; do
  # Gone, or a zombie waiting for a pid 1 that does not reap (some containers): not running.
  if [[ -e /proc/$pid ]] && ! grep -q '^State:.*Z' "/proc/$pid/status"; then echo "  process $pid still runs" >&2; exit 1; fi
done
echo "  the session's holder and ghost init (pids $pids) have ended; $("$gp" status --json | python3 -c 'import json,sys; print("no session" if json.load(sys.stdin).get("session") is None else "A SESSION")')"
for needle in "${needles[@]}"; do
  if grep -aqF -e "$needle" .ghostpod/vault .ghostpod/vault.bak; then echo "  PLAINTEXT IN THE VAULT" >&2; exit 1; fi
done
echo "  the vault (identity + encrypted offline cache of the pull) holds only ciphertext"

step "HashiCorp Vault / OpenBao: a KV secret, and a kube client certificate that lives as long as the session"
# A local Vault-compatible server (tests/support/fake_vault.py, the same TLS certificate): an
# AppRole, a KV v2 secret and a PKI mount with a real CA of its own (made by the server).
vault_secret_id=$(head -c 18 /dev/urandom | base64)
deploy_token="deploy-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')"
vault_world=$(printf '%s\0%s' "$vault_secret_id" "$deploy_token" | python3 -c '
import json, sys
secret_id, deploy_token = sys.stdin.read().split("\0")
print(json.dumps({
  "approles": [{"role_name": "demo", "role_id": "demo-approle", "secret_id": secret_id, "token_ttl": "1h"}],
  "mounts": {"secret": {"type": "kv", "version": 2, "secrets": {"demo/ops": {"DEPLOY_TOKEN": deploy_token, "REPLICAS": 3}}},
             "pki-k8s": {"type": "pki", "common_name": "demo cluster client CA",
                         "roles": {"operator": {"allowed_common_names": ["alice"], "organization": ["system:masters"],
                                                "max_ttl": "24h"}}}}}))
')
python3 "$root/tests/support/fake_vault.py" --world <(printf '%s' "$vault_world") --ready-file "$work/vault-ready" \
  --tls-cert "$work/server.pem" --tls-key "$work/server.key" --log "$work/vault-log.jsonl" --tmp-dir "$work" &
vault_pid=$!
for _ in $(seq 100); do [[ -s $work/vault-ready ]] && break; sleep 0.1; done
vport=$(cat "$work/vault-ready")
echo "listening on https://127.0.0.1:$vport (pid $vault_pid)"
curl -s --cacert "$work/ca.pem" "https://127.0.0.1:$vport/v1/pki-k8s/ca/pem" > "$work/pki-ca.pem"  # public, as in Vault
printf '%s\n%s\n' demo-approle "$vault_secret_id" | gpp identity set --backend vault
echo "ghostpod identity show (both identities, never a secret):"
gpp identity show | sed 's/^/  /'
# The kubeconfig is stored without credentials: user alice is "{}". The session adds them.
printf 'apiVersion: v1\nkind: Config\ncurrent-context: demo\nclusters:\n- name: demo\n  cluster: {server: "https://10.0.0.2:6443"}\ncontexts:\n- name: demo\n  context: {cluster: demo, user: alice}\nusers:\n- name: alice\n  user: {}\n' |
  gpp secret set kube/config
cat > vault-config.json <<JSON
{
  "version": 1,
  "vault": {
    "address": "https://127.0.0.1:$vport",
    "cacert": "$work/ca.pem",
    "kv": ["secret/demo/ops"],
    "pki": [{"mount": "pki-k8s", "role": "operator", "common_name": "alice", "for": "kube/config", "user": "alice"}]
  }
}
JSON
echo "vault-config.json:"
sed 's/^/  /' vault-config.json
gpp --config vault-config.json pull --no-shell --ttl 1h
"$gp" --config vault-config.json run -- sh -c '
  echo "inside the ghost:"
  echo "  \$GHOSTPOD_DIR/vault/secret/demo/ops: $(ls "$GHOSTPOD_DIR/vault/secret/demo/ops" | tr "\n" " ")  REPLICAS=$(cat "$GHOSTPOD_DIR/vault/secret/demo/ops/REPLICAS")"
  cert() { kubectl config view --raw -o jsonpath="{.users[0].user.client-certificate-data}" | base64 -d; }
  echo "  kubectl sees a client certificate for user alice, made for this session:"
  cert | openssl x509 -noout -subject -issuer -enddate | sed "s/^/    /"
  echo "  openssl verify against the PKI CA: $(cert | openssl verify -CAfile '"$work"'/pki-ca.pem | sed "s/.*: //")"'
"$gp" --config vault-config.json certs | sed 's/^/  /'
"$gp" --config vault-config.json lock
echo "the Vault server saw (the key pair was made here; only its certificate request was sent):"
python3 - "$work/vault-log.jsonl" <<'PY'
import json, sys
for e in (json.loads(line) for line in open(sys.argv[1])):
    print(f"  {e['method']:4} {e['path']:44} -> {e['status']}  token {e.get('token') or '-'}")
PY
echo "  tokens: $(curl -s --cacert "$work/ca.pem" "https://127.0.0.1:$vport/__admin/tokens")"
if grep -rlsF -e "$vault_secret_id" -e "$deploy_token" "$HOME" "$work/project" /tmp /var/tmp /dev/shm 2>/dev/null; then
  echo "PLAINTEXT FOUND" >&2; exit 1
fi
echo "  no secret_id or KV value in HOME, the project, /tmp, /var/tmp or /dev/shm; the certificate and its key died with the session"
if grep -aqF -e "$vault_secret_id" -e "$deploy_token" .ghostpod/vault .ghostpod/vault.bak; then echo "  PLAINTEXT IN THE VAULT" >&2; exit 1; fi
echo
echo "demo finished; $work (server, CA, vault, HOME) is removed on exit"

phase "ghostpod is built, not installed: $gp"
cat <<EOF
Put it on PATH for this shell:
  export PATH="$root/build:\$PATH"
or install it with its man pages and completions, as a .deb:
  cpack --config "$root/build/CPackConfig.cmake" -B "$root/dist" && ${sudo}apt install "$root"/dist/ghostpod_*.deb
or under /usr/local:
  ${sudo}cmake --install "$root/build"
Then, in a project directory: ghostpod init (README.md, "Quick start"; man ghostpod).
EOF
