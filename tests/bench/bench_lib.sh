# Shared by the benchmark scripts (sourced; each defines die() first): the throwaway TLS
# certificates and the fake server's world for the pull rows, and /proc lookups.

# bench_certs LABEL: a throwaway CA (CN "LABEL throwaway CA", 2 days) and a server certificate
# for IP 127.0.0.1 in the current directory: ca.pem, server.pem, server.key. Sets CA.
bench_certs() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=$1 throwaway CA" -keyout ca.key -out ca.pem 2>/dev/null || die "openssl: the CA"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
        -keyout server.key -out server.csr 2>/dev/null || die "openssl: the server key"
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
        -out server.pem 2>/dev/null || die "openssl: signing the server certificate"
    CA=$PWD/ca.pem
}

# make_world N FILE: one identity ("id"/"secret"), project bench-proj, env dev, N secrets in "/"
# (values 64-200 bytes, every 50th multi-line, the same for the same N).
make_world() {
    python3 - "$1" "$2" <<'PY'
import json, random, string, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(n)
alphabet = string.ascii_letters + string.digits + " .,:;-_+=/@#%"
def value(i):
    size = rng.randint(64, 200)
    text = "".join(rng.choice(alphabet) for _ in range(size))
    if i % 50 == 0:  # a few multi-line values (PEM-like)
        text = "\n".join(text[j:j + 40] for j in range(0, len(text), 40)) + "\n"
    return text
secrets = {"KEY_%05d" % i: value(i) for i in range(1, n + 1)}
world = {"identities": [{"clientId": "id", "clientSecret": "secret"}],
         "projects": {"bench-proj": {"slug": "bench", "environments": {"dev": {"folders": {"/": {"secrets": secrets}}}}}}}
json.dump(world, open(path, "w"))
PY
}

# pid_field PID N: field N (0-based, after the command name) of /proc/PID/stat.
pid_field() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; read -r -a f <<<"$s"; echo "${f[$2]}"; }

# child_of PID: the first process whose parent is PID.
child_of() {
    local parent=$1 d
    for d in /proc/[0-9]*; do
        [[ $(pid_field "${d#/proc/}" 1) == "$parent" ]] && { echo "${d#/proc/}"; return 0; }
    done
    return 1
}
