#!/usr/bin/env python3
# A local HashiCorp Vault / OpenBao-compatible server for ghostpod's tests, demo and benchmarks,
# written from /work/shared/vault-api.md and Vault's API docs. Standard library only; the
# `openssl` command makes the PKI mounts' CAs and signs CSRs. Modelled on fake_infisical.py.
#
#   fake_vault.py --world WORLD.json --ready-file PATH [--tls-cert C --tls-key K] [--port 0]
#                 [--host 127.0.0.1] [--log FILE] [--fault SPEC]... [--tmp-dir DIR]
#   fake_vault.py --self-test
#
# Serves AppRole login, token renew-self/revoke-self/lookup-self, KV v1 and v2 reads, the
# sys/internal/ui/mounts preflight, PKI sign and ca/pem, namespaces (X-Vault-Namespace or a
# path prefix), per-role policies, fault injection and
# /__admin/{faults,log,world,tokens,pki-ca}.
# Never prints or logs a token, role or secret ID, key or secret value: tokens appear only as a
# fingerprint (first 12 hex chars of their SHA-256).
#
# World file (JSON): the root namespace's "approles", "policies" and "mounts", and "namespaces"
# mapping a path ("team/a") to an object with the same three keys:
#   "approles": [{"mount": "approle", "role_name": "ops", "role_id": "...", "secret_id": "..." or [...],
#                 "token_ttl": 3600, "token_max_ttl": 86400, "renewable": true,
#                 "token_policies": ["ops"], "token_marker": "MARK"}]
#   "policies": {"ops": ["secret/data/app/*", "kv/shared", "pki/sign/+"]}   (Vault globs: trailing *, + = one segment)
#   "mounts": {"secret": {"type": "kv", "version": 2, "secrets": {"app/db": {"K": "v"} |
#                          {"versions": [{"data": {...}, "deleted": false, "destroyed": false}], "custom_metadata": {...}}}},
#              "kv": {"type": "kv", "version": 1, "secrets": {"shared": {"K": "v"}}},
#              "pki": {"type": "pki", "common_name": "CA name", "roles": {"client": {"allowed_common_names": ["alice", "ops-*"],
#                      "allow_any_name": false, "organization": ["ops"], "ttl": "1h", "max_ttl": "24h",
#                      "key_type": "any", "server_flag": false, "client_flag": true}}}}
# A token is restricted to the paths of its policies when at least one of its token_policies is
# defined in its namespace's "policies"; otherwise it may read everything in its namespace.
import argparse, atexit, datetime, fnmatch, hashlib, hmac, http.client, json, os, re, secrets, shutil, signal, socket
import socketserver, ssl, subprocess, sys, tempfile, threading, time, traceback, urllib.error, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULT_KINDS = {"429", "500", "503", "slow", "garbage", "oversize", "reset"}
FAULT_ROUTES = {"login", "renew", "revoke", "lookup", "kv", "mounts", "pki", "any"}
SYSTEM_MAX_TTL = 768 * 3600  # Vault's default and maximum lease, 32 days
KV1_LEASE = 2764800
BASE_TIME = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")


def fingerprint(token):
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def stable_uuid(*parts):
    h = hashlib.md5("|".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def random_id(n):
    return "".join(secrets.choice(BASE62) for _ in range(n))


def to_json(obj):
    try:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates in a value: fall back to \u escapes
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


def rfc3339(t):
    if isinstance(t, (int, float)):
        t = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_duration(v, what):
    """Vault durations: seconds as a number or digits, or Go-style "1h30m", "8h", "90s", "2d"."""
    if isinstance(v, bool):
        raise ApiError(400, [f"error parsing {what}: not a duration"])
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).strip()
    if s == "":
        return 0
    if re.fullmatch(r"\d+", s):
        return int(s)
    if not re.fullmatch(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+", s):
        raise ApiError(400, [f"error parsing {what}: time: invalid duration \"{s}\""])
    return int(sum(float(n) * DURATION_UNITS[u] for n, u in DURATION.findall(s)))


def world_duration(v, default):
    if v is None:
        return default
    try:
        return parse_duration(v, "duration")
    except ApiError as e:
        raise ValueError(e.errors[0])


def norm_ns(ns):
    return "/".join(x for x in (ns or "").split("/") if x)


class ApiError(Exception):
    def __init__(self, status, errors, headers=(), body=None):
        super().__init__(status)
        self.status, self.errors, self.headers, self.body = status, list(errors), list(headers), body


def denied():
    return ApiError(403, ["permission denied"])


def policy_regex(pattern):
    """A Vault policy path: "+" is one segment, a trailing "*" any suffix."""
    glob = pattern.endswith("*")
    body = pattern[:-1] if glob else pattern
    parts = [("[^/]+" if seg == "+" else re.escape(seg)) for seg in body.split("/")]
    return re.compile("/".join(parts) + (".*" if glob else ""))


# ---- the world ------------------------------------------------------------------------------
def load_namespace(ns, w):
    approles = []
    for a in w.get("approles", []):
        sid = a["secret_id"]
        approles.append({
            "mount": str(a.get("mount", "approle")).strip("/"), "role_name": str(a.get("role_name", "default")),
            "role_id": str(a["role_id"]), "secret_ids": [str(s) for s in (sid if isinstance(sid, list) else [sid])],
            "ttl": world_duration(a.get("token_ttl"), SYSTEM_MAX_TTL),
            "max_ttl": world_duration(a.get("token_max_ttl"), SYSTEM_MAX_TTL),
            "renewable": bool(a.get("renewable", True)), "policies": [str(p) for p in a.get("token_policies", [])],
            "marker": str(a.get("token_marker") or "")})  # tests: every token issued for it contains this
    policies = {str(k): [policy_regex(str(p)) for p in v] for k, v in (w.get("policies") or {}).items()}
    policy_text = {str(k): [str(p) for p in v] for k, v in (w.get("policies") or {}).items()}
    mounts = {}
    for raw, m in (w.get("mounts") or {}).items():
        name = raw.strip("/")
        kind = m.get("type", "kv")
        entry = {"name": name, "type": kind, "accessor": f"{kind}_{stable_uuid(ns, name)[:8]}",
                 "uuid": stable_uuid("mount", ns, name)}
        if kind == "kv":
            entry["version"] = int(m.get("version", 2))
            if entry["version"] not in (1, 2):
                raise ValueError(f"mount {name}: kv version must be 1 or 2")
            secrets_ = {}
            for path, s in (m.get("secrets") or {}).items():
                path = path.strip("/")
                if entry["version"] == 1:
                    if not isinstance(s, dict):
                        raise ValueError(f"mount {name}: secret {path} must be an object")
                    secrets_[path] = s
                    continue
                if isinstance(s, dict) and set(s) <= {"versions", "custom_metadata"} and isinstance(s.get("versions"), list):
                    raw_versions, custom = s["versions"], s.get("custom_metadata")
                else:
                    raw_versions, custom = [{"data": s}], None
                versions = []
                for i, v in enumerate(raw_versions, start=1):
                    created = v.get("created_time") or rfc3339(BASE_TIME + datetime.timedelta(minutes=i))
                    deleted = bool(v.get("deleted"))
                    versions.append({"data": v.get("data", {}), "destroyed": bool(v.get("destroyed")),
                                     "metadata": {"created_time": created, "custom_metadata": custom,
                                                  "deletion_time": v.get("deletion_time") or (created if deleted else ""),
                                                  "destroyed": bool(v.get("destroyed")), "version": i}})
                if not versions:
                    raise ValueError(f"mount {name}: secret {path} has no versions")
                secrets_[path] = {"versions": versions, "custom_metadata": custom}
            entry["secrets"] = secrets_
        elif kind == "pki":
            entry["common_name"] = str(m.get("common_name") or f"ghostpod fake {ns + '/' if ns else ''}{name} CA")
            roles = {}
            for rname, r in (m.get("roles") or {}).items():
                roles[str(rname)] = {
                    "allowed": [str(x) for x in r.get("allowed_common_names", [])],
                    "any": bool(r.get("allow_any_name", False)),
                    "organization": [str(x) for x in r.get("organization", [])],
                    "max_ttl": world_duration(r.get("max_ttl"), SYSTEM_MAX_TTL),
                    "ttl": world_duration(r.get("ttl"), 0), "key_type": str(r.get("key_type", "any")),
                    "server_flag": bool(r.get("server_flag", False)), "client_flag": bool(r.get("client_flag", True))}
            entry["roles"] = roles
        else:
            raise ValueError(f"mount {name}: type must be kv or pki")
        mounts[name] = entry
    return {"path": ns, "approles": approles, "policies": policies, "policy_text": policy_text, "mounts": mounts,
            "auth_mounts": {a["mount"] for a in approles}}


def load_world(w):
    """Turns the world file into lookup tables, once per load (never per request)."""
    if not isinstance(w, dict):
        raise ValueError("the world must be a JSON object")
    namespaces = {"": load_namespace("", w)}
    for raw, nw in (w.get("namespaces") or {}).items():
        ns = norm_ns(raw)
        if not ns:
            raise ValueError("a namespace needs a non-empty path")
        namespaces[ns] = load_namespace(ns, nw)
    return {"namespaces": namespaces}


# ---- PKI: one real CA per (namespace, mount), kept across world replacements ----------------
class Pki:
    CONFIG = ("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = issued\nserial = serial\n"
              "default_md = sha256\npolicy = p\nunique_subject = no\nemail_in_dn = no\n[p]\n"
              "commonName = optional\norganizationName = optional\n")

    def __init__(self, parent=None):
        self.root = tempfile.mkdtemp(prefix="fake-vault-pki-", dir=parent)
        self.cas = {}  # (ns, mount) -> {"dir", "pem", "lock"}
        self.lock = threading.Lock()
        atexit.register(self.close)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    def openssl(args, cwd, data=None):
        return subprocess.run(["openssl"] + args, cwd=cwd, input=data, capture_output=True, timeout=60)

    def ensure(self, world):
        for ns, n in world["namespaces"].items():
            for name, m in n["mounts"].items():
                if m["type"] == "pki" and (ns, name) not in self.cas:
                    self.create(ns, name, m["common_name"])

    def create(self, ns, mount, common_name):
        d = tempfile.mkdtemp(prefix="ca-", dir=self.root)
        os.mkdir(os.path.join(d, "issued"))
        subj = "/CN=" + subject_escape(common_name)
        r = self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", subj,
                          "-addext", "basicConstraints=critical,CA:TRUE",
                          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
        if r.returncode != 0:
            raise RuntimeError(f"openssl could not make the CA of {ns + '/' if ns else ''}{mount}")
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(self.CONFIG)
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "ca.pem")) as f:
            pem = f.read()
        with self.lock:
            self.cas[(ns, mount)] = {"dir": d, "pem": pem, "lock": threading.Lock()}

    def ca_pem(self, ns, mount):
        with self.lock:
            return self.cas[(ns, mount)]["pem"]

    def sign(self, ns, mount, csr, subject, ekus, not_before, not_after):
        """Signs a verified CSR; returns (certificate PEM, serial as colon hex)."""
        with self.lock:
            ca = self.cas[(ns, mount)]
        with ca["lock"]:  # openssl ca keeps an index and a serial file
            d = ca["dir"]
            serial = bytearray(secrets.token_bytes(20))
            serial[0] &= 0x7F
            serial[0] |= 0x10  # positive, and 20 bytes long like Vault's
            with open(os.path.join(d, "serial"), "w") as f:
                f.write(serial.hex().upper() + "\n")
            with open(os.path.join(d, "req.csr"), "w") as f:
                f.write(csr)
            ext = ["basicConstraints=critical,CA:FALSE",
                   "keyUsage=critical,digitalSignature,keyEncipherment,keyAgreement",
                   "subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid"]
            if ekus:
                ext.append("extendedKeyUsage=" + ",".join(ekus))
            with open(os.path.join(d, "ext"), "w") as f:
                f.write("\n".join(ext) + "\n")
            fmt = lambda t: time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))
            r = self.openssl(["ca", "-config", "ca.cnf", "-batch", "-notext", "-in", "req.csr", "-out", "cert.pem",
                              "-cert", "ca.pem", "-keyfile", "ca.key", "-subj", subject, "-preserveDN",
                              "-startdate", fmt(not_before), "-enddate", fmt(not_after), "-extfile", "ext"], d)
            if r.returncode != 0:
                raise ApiError(500, ["could not sign the certificate request"])
            with open(os.path.join(d, "cert.pem")) as f:
                pem = f.read()
            for name in ("req.csr", "cert.pem", os.path.join("issued", serial.hex().upper() + ".pem")):
                try:
                    os.unlink(os.path.join(d, name))
                except OSError:
                    pass
        return pem, ":".join(f"{b:02x}" for b in serial)

    def inspect_csr(self, csr):
        """(subject CN or "", key type) of a CSR whose self-signature verifies; else a 400."""
        if not isinstance(csr, str) or "-----BEGIN CERTIFICATE REQUEST-----" not in csr:
            raise ApiError(400, ["certificate request could not be parsed: no PEM CERTIFICATE REQUEST block"])
        r = self.openssl(["req", "-noout", "-verify", "-text", "-nameopt", "RFC2253"], self.root, csr.encode())
        if r.returncode != 0:
            raise ApiError(400, ["certificate request could not be parsed or its signature does not verify"])
        text = r.stdout.decode("utf-8", "replace")
        m = re.search(r"^\s*Subject:\s*(.*)$", text, re.M)
        cn = ""
        if m:
            c = re.search(r"(?:^|,)CN=((?:[^,\\]|\\.)*)", m.group(1))
            cn = re.sub(r"\\(.)", r"\1", c.group(1)) if c else ""
        alg = re.search(r"Public Key Algorithm:\s*(\S+)", text)
        alg = alg.group(1) if alg else ""
        key_type = {"id-ecPublicKey": "ec", "rsaEncryption": "rsa", "ED25519": "ed25519"}.get(alg, alg.lower())
        return cn, key_type


def subject_escape(s):
    return re.sub(r"([\\/+=,])", r"\\\1", s)


# ---- faults ---------------------------------------------------------------------------------
class Fault:
    def __init__(self, spec):
        parts = str(spec).split(":")
        if len(parts) < 3 or parts[0] not in FAULT_KINDS or parts[1] not in FAULT_ROUTES:
            raise ValueError(f"bad fault spec {spec!r} (KIND:ROUTE:COUNT[:ARG])")
        self.spec, self.kind, self.route = str(spec), parts[0], parts[1]
        count = int(parts[2])
        if count < 0:
            raise ValueError(f"bad fault count in {spec!r}")
        self.remaining = None if count == 0 else count  # None: forever
        self.arg = parts[3] if len(parts) > 3 else {"429": "1"}.get(self.kind)
        if self.kind in ("slow", "oversize") and self.arg is None:
            raise ValueError(f"fault {spec!r} needs an argument")
        if self.arg is not None:
            float(self.arg)  # validates numbers early

    def describe(self):
        return {"spec": self.spec, "remaining": self.remaining}


class State:
    def __init__(self, world, faults, log_path, pki):
        self.lock = threading.Lock()
        self.world = world  # replaced whole, never mutated: readers need no lock
        self.faults = faults
        self.pki = pki
        self.tokens = {}  # token -> record
        self.log = []
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None

    def record(self, entry):
        line = json.dumps(entry)
        with self.lock:
            self.log.append(entry)
            if self.log_file:
                self.log_file.write(line + "\n")
                self.log_file.flush()

    def take_faults(self, route):
        """Consumes the faults matching this request: total sleep, first terminal fault."""
        sleep, terminal = 0.0, None
        with self.lock:
            for f in self.faults:
                if f.remaining == 0 or (f.route != "any" and f.route != route):
                    continue
                if f.kind != "slow" and terminal is not None:
                    continue
                if f.remaining is not None:
                    f.remaining -= 1
                if f.kind == "slow":
                    sleep += float(f.arg)
                else:
                    terminal = f
        return sleep, terminal

    def issue(self, ns, role):
        now = time.time()
        max_ttl = min(role["max_ttl"] or SYSTEM_MAX_TTL, SYSTEM_MAX_TTL)
        ttl = min(role["ttl"] or SYSTEM_MAX_TTL, max_ttl)
        token = "hvs." + role["marker"] + random_id(90)
        rec = {"fp": fingerprint(token), "accessor": random_id(24), "ns": ns, "mount": role["mount"],
               "role": role["role_name"], "policies": list(role["policies"]), "ttl": role["ttl"],
               "created": now, "expiry": now + ttl, "max_expiry": now + max_ttl, "creation_ttl": ttl,
               "renewable": role["renewable"], "revoked": False, "entity": stable_uuid("entity", ns, role["role_name"])}
        with self.lock:
            self.tokens[token] = rec
        return token, rec

    def check_token(self, token, ns):
        """The live token's record, when it belongs to this namespace; else permission denied."""
        with self.lock:
            rec = self.tokens.get(token) if token else None
            if rec is None or rec["revoked"] or rec["ns"] != ns or time.time() >= rec["expiry"]:
                raise denied()
            return rec


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):  # HTTPServer.server_bind does a reverse DNS lookup; skip it
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):  # TLS handshake failures, client aborts
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            print(f"fake_vault: {type(exc).__name__} while serving a request", file=sys.stderr)


def envelope(data=None, auth=None, warnings=None, lease_duration=0, mount_type=""):
    return {"request_id": stable_uuid("req", secrets.token_hex(8)), "lease_id": "", "renewable": False,
            "lease_duration": lease_duration, "data": data, "wrap_info": None, "warnings": warnings, "auth": auth,
            "mount_type": mount_type}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120
    server_version = "fake-vault/1"

    def log_message(self, *args):  # silent: the request log is --log / /__admin/log
        pass

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_LIST = do_HEAD = do_GET

    # ---- plumbing -------------------------------------------------------------------------
    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def head(self, status, ctype, length, headers=()):
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}", f"Date: {self.date_time_string()}",
                 "Cache-Control: no-store"]
        if ctype is not None:
            lines += [f"Content-Type: {ctype}", f"Content-Length: {length}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, status, body, ctype="application/json", headers=()):
        if status == 204:  # no body, no length
            self.wfile.write(self.head(204, None, 0, headers))
            return
        if not isinstance(body, bytes):
            body = to_json(body)
        # One write for head and body: no Nagle/delayed-ACK stall between two small writes.
        self.wfile.write(self.head(status, ctype, len(body), headers) + (b"" if self.command == "HEAD" else body))

    # ---- dispatch -------------------------------------------------------------------------
    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        raw = self.read_body()
        if path.startswith("/__admin/") or path == "/__admin":
            return self.admin(path.rstrip("/"), raw)
        world = self.server.state.world
        header_ns = norm_ns(self.headers.get("X-Vault-Namespace"))
        ns, rel = self.resolve(world, header_ns, path)
        route, mount, rest = self.classify(world, ns, rel)
        token = self.headers.get("X-Vault-Token")
        if not token:
            auth = self.headers.get("Authorization") or ""
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        # A client that wrongly puts a credential in the URL must not put it in the log too.
        logged_query = {k: (fingerprint(v) if k.lower() in ("token", "client_token", "secret_id", "role_id") else v)
                        for k, v in query.items()}
        entry = {"method": self.command, "path": url.path, "namespace": ns, "query": logged_query,
                 "token": fingerprint(token) if token else None, "status": 0, "route": route}
        try:
            entry["status"] = self.serve(world, ns, route, mount, rest, rel, query, raw, token, entry)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True
        finally:
            self.server.state.record(entry)

    @staticmethod
    def resolve(world, header_ns, path):
        """(namespace, path after /v1/ and the namespace prefix); namespace None when unknown."""
        if not path.startswith("/v1/"):
            return header_ns, None
        segs = [x for x in path[4:].split("/") if x]
        known = world["namespaces"]
        # A path may carry (more of) the namespace: /v1/team/a/secret/... with or without the header.
        for k in range(len(segs) - 1, 0, -1):
            cand = norm_ns(header_ns + "/" + "/".join(segs[:k]))
            if cand in known:
                return cand, "/".join(segs[k:])
        return (header_ns if header_ns in known else None), "/".join(segs)

    @staticmethod
    def classify(world, ns, rel):
        """(route name, mount entry or auth mount name, the rest of the path after the mount)."""
        if rel is None:
            return "unknown", None, None
        if rel == "sys/health":
            return "health", None, None
        if rel.startswith("sys/internal/ui/mounts/") or rel == "sys/internal/ui/mounts":
            return "mounts", None, rel[len("sys/internal/ui/mounts/"):]
        for name, route in (("renew-self", "renew"), ("revoke-self", "revoke"), ("lookup-self", "lookup")):
            if rel == "auth/token/" + name:
                return route, None, None
        if rel.startswith("auth/") and rel.endswith("/login"):
            return "login", rel[5:-6], None
        space = world["namespaces"].get(ns) if ns is not None else None
        if space is not None:
            mount = match_mount(space, rel)
            if mount is not None:
                return ("kv" if mount["type"] == "kv" else "pki"), mount, rel[len(mount["name"]) + 1:]
        return "unknown", None, None

    def serve(self, world, ns, route, mount, rest, rel, query, raw, token, entry):
        """Answers one API request; returns the status for the log (0: connection reset)."""
        state = self.server.state
        sleep, fault = state.take_faults(route)
        if sleep:
            time.sleep(sleep)
        if fault is not None:
            return self.answer_fault(fault, rel)
        try:
            body = {}
            if raw and self.command in ("POST", "PUT", "PATCH"):
                try:
                    body = json.loads(raw)
                except ValueError as e:
                    raise ApiError(400, [f"failed to parse JSON input: {type(e).__name__}"])
                if not isinstance(body, dict):
                    raise ApiError(400, ["failed to parse JSON input: not an object"])
            status, obj, ctype = self.route(world, ns, route, mount, rest, rel, query, body, token, entry)
            self.send(status, obj, ctype or "application/json")
            return status
        except ApiError as e:
            self.send(e.status, e.body if e.body is not None else {"errors": e.errors}, headers=e.headers)
            return e.status

    def answer_fault(self, fault, rel):
        if fault.kind == "429":
            n = fault.arg
            self.send(429, {"errors": [f"request path \"{rel}\": rate limit quota exceeded"]}, headers=[("Retry-After", n)])
            return 429
        if fault.kind == "500":
            self.send(500, {"errors": ["1 error occurred:\n\t* internal error\n\n"]})
            return 500
        if fault.kind == "503":
            self.send(503, {"errors": ["Vault is sealed"]})
            return 503
        if fault.kind == "garbage":
            self.send(200, b'{"data": {garbage <html>')
            return 200
        if fault.kind == "oversize":
            try:
                self.stream_oversize(int(float(fault.arg)))
            except (ConnectionError, ssl.SSLError, TimeoutError):  # a client that stops reading
                self.close_connection = True
            return 200
        self.close_connection = True  # reset: hang up without a byte of answer
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return 0

    def stream_oversize(self, size):
        prefix, suffix = b'{"data":{"pad":"', b'"}}'
        pad = max(0, size - len(prefix) - len(suffix))
        self.wfile.write(self.head(200, "application/json", len(prefix) + pad + len(suffix)) + prefix)
        chunk = b"x" * 65536
        while pad > 0:
            self.wfile.write(chunk[:pad] if pad < len(chunk) else chunk)
            pad -= len(chunk)
        self.wfile.write(suffix)

    # ---- API routes -----------------------------------------------------------------------
    def route(self, world, ns, route, mount, rest, rel, query, body, token, entry):
        state = self.server.state
        method = "GET" if self.command == "HEAD" else self.command
        write = method in ("POST", "PUT")
        if route == "health" and method == "GET":
            return 200, {"initialized": True, "sealed": False, "standby": False, "performance_standby": False,
                         "version": "1.15.0+fake", "cluster_name": "fake-vault", "server_time_utc": int(time.time())}, None
        if rel is None:  # not under /v1/
            raise ApiError(404, [])
        if ns is None:  # a namespace the world does not have: nothing in it exists
            raise denied()
        space = world["namespaces"][ns]
        if route == "login":
            if mount not in space["auth_mounts"]:
                raise denied()  # not a login path here: a token would be needed
            if not write:
                raise ApiError(405, ["1 error occurred:\n\t* unsupported operation\n\n"])
            return 200, self.login(space, ns, mount, body, entry), None
        if route == "pki" and method == "GET" and rest in ("ca/pem", "cert/ca", "ca_chain"):  # unauthenticated in Vault
            pem = state.pki.ca_pem(ns, mount["name"])
            if rest == "cert/ca":
                return 200, envelope({"certificate": pem, "revocation_time": 0}), None
            return 200, pem.encode(), "application/pem-certificate-chain"
        rec = state.check_token(token, ns)
        if route in ("renew", "revoke", "lookup"):
            if (method == "GET") != (route == "lookup") or (route != "lookup" and not write):
                raise ApiError(405, ["1 error occurred:\n\t* unsupported operation\n\n"])
            return getattr(self, route)(space, token, rec, body)
        acl = self.acl(space, rec)
        if route == "mounts":
            target = match_mount(space, rest.strip("/") + "/") if rest else None
            if target is None or not may_touch(acl, target["name"] + "/"):
                raise denied()  # also for unknown mounts, so this path cannot list them
            if method != "GET":
                raise ApiError(405, ["1 error occurred:\n\t* unsupported operation\n\n"])
            version = {"version": str(target["version"])} if target["type"] == "kv" else None
            return 200, envelope({"accessor": target["accessor"], "config": {"default_lease_ttl": 0, "max_lease_ttl": 0,
                                  "force_no_cache": False}, "description": "", "external_entropy_access": False,
                                  "local": False, "options": version, "path": target["name"] + "/",
                                  "plugin_version": "", "running_plugin_version": "", "seal_wrap": False,
                                  "type": target["type"], "uuid": target["uuid"]}), None
        if route == "unknown":
            if not allowed(acl, rel):
                raise denied()
            raise ApiError(404, [])
        if not allowed(acl, rel):
            raise denied()
        if route == "kv":
            if method != "GET":
                raise ApiError(405, ["1 error occurred:\n\t* unsupported operation\n\n"])
            return self.kv_read(mount, rest, query)
        return self.pki(ns, mount, rest, method, body, entry)

    def acl(self, space, rec):
        """None (anything in the namespace) or the list of path regexes the token's policies grant."""
        defined = [p for p in rec["policies"] if p in space["policies"]]
        if not defined:
            return None
        return [rx for p in defined for rx in space["policies"][p]]

    def login(self, space, ns, mount, body, entry):
        state = self.server.state
        role_id, secret_id = body.get("role_id"), body.get("secret_id")
        if not isinstance(role_id, str) or not role_id:
            raise ApiError(400, ["missing role_id"])
        if not isinstance(secret_id, str) or not secret_id:
            raise ApiError(400, ["missing secret_id"])
        enc = lambda s: s.encode("utf-8", "surrogatepass")
        for role in space["approles"]:
            if role["mount"] == mount and hmac.compare_digest(enc(role["role_id"]), enc(role_id)):
                if any(hmac.compare_digest(enc(s), enc(secret_id)) for s in role["secret_ids"]):
                    break
        else:
            raise ApiError(400, ["invalid role or secret ID"])
        token, rec = state.issue(ns, role)
        entry["role_name"] = role["role_name"]
        return envelope(auth=self.auth_object(token, rec))

    def auth_object(self, token, rec):
        policies = sorted(set(["default"] + rec["policies"]))
        return {"client_token": token, "accessor": rec["accessor"], "policies": policies, "token_policies": policies,
                "identity_policies": None, "metadata": {"role_name": rec["role"]},
                "lease_duration": max(0, int(round(rec["expiry"] - time.time()))), "renewable": rec["renewable"],
                "entity_id": rec["entity"], "token_type": "service", "orphan": True, "mfa_requirement": None,
                "num_uses": 0}

    def renew(self, space, token, rec, body):
        state = self.server.state
        if not rec["renewable"]:
            raise ApiError(400, ["lease is not renewable"])
        inc = parse_duration(body.get("increment", 0), "increment")
        warnings = None
        with state.lock:
            now = time.time()
            ttl = inc if inc > 0 else (rec["ttl"] or SYSTEM_MAX_TTL)
            if now + ttl > rec["max_expiry"]:
                capped = max(0, int(rec["max_expiry"] - now))
                warnings = [f"TTL of \"{go_duration(ttl)}\" exceeded the effective max_ttl of "
                            f"\"{go_duration(capped)}\"; TTL value is capped accordingly"]
                rec["expiry"] = rec["max_expiry"]
            else:
                rec["expiry"] = now + ttl
        return 200, envelope(auth=self.auth_object(token, rec), warnings=warnings), None

    def revoke(self, space, token, rec, body):
        with self.server.state.lock:
            rec["revoked"] = True
        return 204, b"", None

    def lookup(self, space, token, rec, body):
        now = time.time()
        policies = sorted(set(["default"] + rec["policies"]))
        ns = rec["ns"]
        return 200, envelope({
            "accessor": rec["accessor"], "creation_time": int(rec["created"]), "creation_ttl": int(rec["creation_ttl"]),
            "display_name": rec["mount"], "entity_id": rec["entity"], "expire_time": rfc3339(rec["expiry"]),
            "explicit_max_ttl": 0, "id": token, "issue_time": rfc3339(rec["created"]), "meta": {"role_name": rec["role"]},
            "namespace_path": ns + "/" if ns else "", "num_uses": 0, "orphan": True,
            "path": f"auth/{rec['mount']}/login", "policies": policies, "renewable": rec["renewable"],
            "ttl": max(0, int(rec["expiry"] - now)), "type": "service"}), None

    def kv_read(self, mount, rest, query):
        secrets_ = mount["secrets"]
        if mount["version"] == 1:
            s = secrets_.get(rest.strip("/"))
            if s is None:
                raise ApiError(404, [])
            return 200, envelope(s, lease_duration=KV1_LEASE, mount_type="kv"), None
        kind, _, path = rest.partition("/")
        path = path.strip("/")
        s = secrets_.get(path)
        if kind == "metadata" and s is not None:
            versions = s["versions"]
            return 200, envelope({
                "cas_required": False, "created_time": versions[0]["metadata"]["created_time"],
                "current_version": len(versions), "custom_metadata": s["custom_metadata"], "delete_version_after": "0s",
                "max_versions": 0, "oldest_version": 0, "updated_time": versions[-1]["metadata"]["created_time"],
                "versions": {str(v["metadata"]["version"]): {k: v["metadata"][k] for k in ("created_time", "deletion_time", "destroyed")}
                             for v in versions}}, mount_type="kv"), None
        if kind != "data":
            warn = ["Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API "
                    "endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation."]
            raise ApiError(404, [], body=envelope(warnings=warn) if kind != "metadata" else None)
        if s is None:
            raise ApiError(404, [])
        try:
            want = int(query.get("version", "0") or 0)
        except ValueError:
            raise ApiError(400, ["invalid version: must be an integer"])
        versions = s["versions"]
        if want < 0 or want > len(versions):
            raise ApiError(404, [])
        v = versions[(want or len(versions)) - 1]
        if v["metadata"]["deletion_time"] or v["destroyed"]:
            # What Vault answers for a deleted or destroyed version: 404 with the metadata, no errors.
            raise ApiError(404, [], body=envelope({"data": None, "metadata": v["metadata"]}, mount_type="kv"))
        return 200, envelope({"data": v["data"], "metadata": v["metadata"]}, mount_type="kv"), None

    def pki(self, ns, mount, rest, method, body, entry):
        state = self.server.state
        kind, _, role_name = rest.partition("/")
        if kind != "sign" or not role_name or "/" in role_name:
            raise ApiError(404, [])
        if method not in ("POST", "PUT"):
            raise ApiError(405, ["1 error occurred:\n\t* unsupported operation\n\n"])
        role = mount["roles"].get(role_name)
        if role is None:
            raise ApiError(400, [f"unknown role: {role_name}"])
        csr_cn, key_type = state.pki.inspect_csr(body.get("csr"))
        if role["key_type"] != "any" and key_type != role["key_type"]:
            raise ApiError(400, [f"role requires keys of type {role['key_type']}; the CSR's key is of type {key_type}"])
        cn = body.get("common_name")
        if cn is None or cn == "":
            cn = csr_cn
        if not isinstance(cn, str) or not cn:
            raise ApiError(400, ["the common_name field is required, or must be provided in a CSR with "
                                 "\"use_csr_common_name\" set to true, unless \"require_cn\" is set to false"])
        if not role["any"] and not any(fnmatch.fnmatchcase(cn, pat) for pat in role["allowed"]):
            raise ApiError(400, [f"common name {cn} not allowed by this role"])
        requested = parse_duration(body.get("ttl", 0), "ttl")
        warnings = None
        ttl = requested or role["ttl"] or role["max_ttl"]
        if ttl > role["max_ttl"]:
            warnings = [f"TTL \"{go_duration(ttl)}\" is longer than permitted maxTTL \"{go_duration(role['max_ttl'])}\", "
                        "so maxTTL is being used"]
            ttl = role["max_ttl"]
        now = int(time.time())
        subject = "/CN=" + subject_escape(cn) + "".join("/O=" + subject_escape(o) for o in role["organization"])
        ekus = (["serverAuth"] if role["server_flag"] else []) + (["clientAuth"] if role["client_flag"] else [])
        pem, serial = state.pki.sign(ns, mount["name"], body["csr"], subject, ekus, now - 30, now + ttl)
        ca = state.pki.ca_pem(ns, mount["name"])
        entry["pki"] = {"mount": mount["name"], "role": role_name, "common_name": cn, "ttl": ttl,
                        "requested_ttl": requested, "serial_number": serial}
        return 200, envelope({"certificate": pem.strip(), "issuing_ca": ca.strip(), "ca_chain": [ca.strip()],
                              "serial_number": serial, "expiration": now + ttl}, warnings=warnings, mount_type="pki"), None

    # ---- admin ----------------------------------------------------------------------------
    def admin(self, path, raw):
        state = self.server.state
        try:
            body = json.loads(raw) if raw else {}
            if (self.command, path) == ("GET", "/__admin/pki-ca"):  # like <mount>/ca/pem, but no fault, no log entry
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                key = (norm_ns(q.get("namespace")), q.get("mount", "").strip("/"))
                with state.lock:
                    ca = state.pki.cas.get(key)
                if ca is None:
                    return self.send(404, {"errors": [f"no PKI mount {key[1]!r} in namespace {key[0]!r}"]})
                return self.send(200, ca["pem"].encode(), "application/pem-certificate-chain")
            if (self.command, path) == ("POST", "/__admin/faults"):
                faults = [Fault(s) for s in body.get("faults", [])]
                with state.lock:
                    state.faults = faults
                return self.send(200, {"faults": [f.describe() for f in faults]})
            if (self.command, path) == ("GET", "/__admin/faults"):
                with state.lock:
                    return self.send(200, {"faults": [f.describe() for f in state.faults]})
            if (self.command, path) == ("GET", "/__admin/log"):
                with state.lock:
                    entries = list(state.log)
                return self.send(200, entries)
            if (self.command, path) == ("DELETE", "/__admin/log"):
                with state.lock:
                    state.log.clear()
                return self.send(200, {"message": "log cleared"})
            if (self.command, path) == ("POST", "/__admin/world"):
                world = load_world(body)
                state.pki.ensure(world)  # new PKI mounts get a CA; existing ones keep theirs
                with state.lock:
                    state.world = world
                return self.send(200, {"message": "world replaced"})
            if (self.command, path) == ("GET", "/__admin/tokens"):
                now, out = time.time(), {"active": [], "revoked": [], "expired": []}
                with state.lock:
                    for rec in state.tokens.values():
                        kind = "revoked" if rec["revoked"] else "expired" if now >= rec["expiry"] else "active"
                        out[kind].append(rec["fp"])
                return self.send(200, out)
            status, errors = 404, []
        except (ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
            status, errors = 400, [f"bad admin request: {type(exc).__name__}: {exc}"]
        self.send(status, {"errors": errors})


def match_mount(space, rel):
    """The mount whose path is the longest prefix of rel ("secret/data/x" -> secret)."""
    best = None
    for name, m in space["mounts"].items():
        if (rel == name or rel.startswith(name + "/")) and (best is None or len(name) > len(best["name"])):
            best = m
    return best


def allowed(acl, rel):
    return acl is None or any(rx.fullmatch(rel) for rx in acl)


def may_touch(acl, prefix):
    """Whether some granted path lies under prefix ("secret/"): the preflight's rule."""
    if acl is None:
        return True
    for rx in acl:
        literal = re.split(r"\[\^/\]\+|\.\*", rx.pattern)[0].replace("\\", "")
        if literal.startswith(prefix) or (rx.pattern.endswith(".*") and prefix.startswith(literal)):
            return True
    return False


def go_duration(seconds):
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{s}s"


def make_server(world, host="127.0.0.1", port=0, faults=(), log_path=None, cert=None, key=None, tmp_parent=None):
    pki = Pki(tmp_parent)
    try:
        pki.ensure(world)
        httpd = Server((host, port), Handler)
    except BaseException:
        pki.close()
        raise
    httpd.state = State(world, list(faults), log_path, pki)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        # The handshake runs in the connection's thread on its first read, not in accept().
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    return httpd


# ---- self-test ------------------------------------------------------------------------------
def self_test():
    work = tempfile.mkdtemp(prefix="fake-vault-selftest-")
    httpd = None
    try:
        def openssl(*args):
            r = subprocess.run(["openssl"] + list(args), cwd=work, capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, f"openssl {args[0]}: {r.stderr[-300:]}"
            return r.stdout

        # A CA and a 127.0.0.1 certificate for the server's TLS, as the C++ wrapper makes them.
        with open(os.path.join(work, "server.ext"), "w") as f:
            f.write("subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tls-ca.key",
                "-out", "tls-ca.pem", "-days", "1", "-subj", "/CN=self-test TLS CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
                "-out", "server.csr", "-subj", "/CN=127.0.0.1")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "tls-ca.pem", "-CAkey", "tls-ca.key", "-CAcreateserial",
                "-days", "1", "-extfile", "server.ext", "-out", "server.pem")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key",
                "-out", "client.csr", "-subj", "/CN=whatever")
        with open(os.path.join(work, "client.csr")) as f:
            csr = f.read()

        marker = "MARK" + secrets.token_hex(4)
        world = {
            "approles": [
                {"role_name": "ops", "role_id": "rid-ops", "secret_id": ["sid-ops-old", "sid-ops"], "token_ttl": "1h",
                 "token_max_ttl": "90m", "token_policies": ["ops"], "token_marker": marker},
                {"role_name": "reader", "role_id": "rid-reader", "secret_id": "sid-reader", "token_policies": ["reader"]},
                {"role_name": "short", "role_id": "rid-short", "secret_id": "sid-short", "token_ttl": 1, "renewable": False},
                {"mount": "approle-ci", "role_name": "ci", "role_id": "rid-ci", "secret_id": "sid-ci"}],
            "policies": {"ops": ["secret/*", "kv/*", "pki/sign/client"], "reader": ["secret/data/app/config", "secret/metadata/+/config"]},
            "mounts": {
                "secret": {"type": "kv", "version": 2, "secrets": {
                    "app/config": {"STR": "v-string", "NUM": 42, "BOOL": True, "OBJ": {"a": [1, 2]}},
                    "app/db": {"versions": [{"data": {"PASSWORD": "v-db-1"}}, {"data": {"PASSWORD": "v-db-2"}, "deleted": True}]}}},
                "kv": {"type": "kv", "version": 1, "secrets": {"shared": {"TOKEN": "v-kv1"}}},
                "pki": {"type": "pki", "roles": {"client": {"allowed_common_names": ["alice", "ops-*"], "organization": ["ops", "dev"],
                                                            "max_ttl": "1h"}}}},
            "namespaces": {"team/a": {
                "approles": [{"role_name": "team", "role_id": "rid-team", "secret_id": "sid-team"}],
                "mounts": {"secret": {"type": "kv", "version": 2, "secrets": {"app/team": {"T": "v-team"}}}}}}}
        hidden = ["rid-ops", "sid-ops", "sid-reader", "sid-short", "sid-team", "v-string", "v-db-1", "v-db-2", "v-kv1", "v-team"]
        httpd = make_server(load_world(world), cert=os.path.join(work, "server.pem"), key=os.path.join(work, "server.key"),
                            tmp_parent=work)
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        base = f"https://127.0.0.1:{httpd.server_address[1]}"
        ctx = ssl.create_default_context(cafile=os.path.join(work, "tls-ca.pem"))

        # One kept-alive connection, as ghostpod's client uses: a response without a correct
        # Content-Length stalls it (urllib's Connection: close would hide that).
        conn = [None]

        def call(method, path, body=None, token=None, ns=None, raw=False):
            data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            headers = {"Content-Type": "application/json"}
            if token:
                headers["X-Vault-Token"] = token
            if ns:
                headers["X-Vault-Namespace"] = ns
            if conn[0] is None:
                conn[0] = http.client.HTTPSConnection("127.0.0.1", httpd.server_address[1], context=ctx, timeout=5)
            try:
                conn[0].request(method, path, body=data, headers=headers)
                r = conn[0].getresponse()
                out, st, hdrs = r.read(), r.status, r.headers
            except BaseException:
                conn[0].close()
                conn[0] = None
                raise
            if r.will_close:
                conn[0].close()
                conn[0] = None
            if raw:
                return st, out, hdrs
            return st, (json.loads(out) if out else None)

        login = lambda rid, sid, ns=None, mount="approle": call("POST", f"/v1/auth/{mount}/login", {"role_id": rid, "secret_id": sid}, ns=ns)

        # AppRole login
        st, err = login("rid-ops", "nope")
        assert st == 400 and err == {"errors": ["invalid role or secret ID"]}, (st, err)
        st, err = login("rid-nobody", "sid-ops")
        assert st == 400 and err["errors"] == ["invalid role or secret ID"], (st, err)
        st, err = call("POST", "/v1/auth/approle/login", {"role_id": "rid-ops"})
        assert st == 400 and err["errors"] == ["missing secret_id"], err
        st, err = call("POST", "/v1/auth/approle/login", b"{not json")
        assert st == 400 and err["errors"][0].startswith("failed to parse JSON"), err
        st, err = login("rid-ops", "sid-ops", mount="nosuch")
        assert st == 403 and err == {"errors": ["permission denied"]}, (st, err)
        st, out = login("rid-ops", "sid-ops")
        auth = out["auth"]
        assert st == 200 and auth["client_token"].startswith("hvs.") and marker in auth["client_token"], out
        assert auth["lease_duration"] == 3600 and auth["renewable"] and auth["token_policies"] == ["default", "ops"], auth
        assert auth["metadata"] == {"role_name": "ops"} and out["data"] is None, out
        ops = auth["client_token"]
        assert login("rid-ops", "sid-ops-old")[0] == 200  # every listed secret ID logs in
        assert login("rid-ci", "sid-ci", mount="approle-ci")[0] == 200

        # Tokens
        assert call("GET", "/v1/secret/data/app/config") == (403, {"errors": ["permission denied"]})
        assert call("GET", "/v1/secret/data/app/config", token="hvs.forged")[0] == 403
        st, out = call("GET", "/v1/auth/token/lookup-self", token=ops)
        assert st == 200 and 3590 <= out["data"]["ttl"] <= 3600 and out["data"]["policies"] == ["default", "ops"], out
        assert out["data"]["path"] == "auth/approle/login" and out["data"]["renewable"] is True, out
        st, out = call("POST", "/v1/auth/token/renew-self", {"increment": "30m"}, token=ops)
        assert st == 200 and 1790 <= out["auth"]["lease_duration"] <= 1800 and not out["warnings"], out
        assert out["auth"]["client_token"] == ops
        st, out = call("POST", "/v1/auth/token/renew-self", {"increment": "2h"}, token=ops)  # past max 90m: capped
        assert st == 200 and 5380 <= out["auth"]["lease_duration"] <= 5400 and "capped" in out["warnings"][0], out
        st, out = call("POST", "/v1/auth/token/renew-self", None, token=ops)  # default: token_ttl 1h
        assert st == 200 and 3590 <= out["auth"]["lease_duration"] <= 3600, out
        st, err = call("POST", "/v1/auth/token/renew-self", {"increment": "soon"}, token=ops)
        assert st == 400 and "increment" in err["errors"][0], err
        st, out = login("rid-short", "sid-short")
        short = out["auth"]["client_token"]
        assert out["auth"]["lease_duration"] == 1 and out["auth"]["renewable"] is False
        st, err = call("POST", "/v1/auth/token/renew-self", {}, token=short)
        assert st == 400 and err["errors"] == ["lease is not renewable"], err
        time.sleep(1.1)
        assert call("GET", "/v1/auth/token/lookup-self", token=short)[0] == 403  # expired

        # KV: the preflight, v2, v1
        st, out = call("GET", "/v1/sys/internal/ui/mounts/secret", token=ops)
        assert st == 200 and out["data"]["type"] == "kv" and out["data"]["path"] == "secret/" and out["data"]["options"] == {"version": "2"}, out
        st, out = call("GET", "/v1/sys/internal/ui/mounts/secret/app/config", token=ops)
        assert st == 200 and out["data"]["path"] == "secret/", out
        st, out = call("GET", "/v1/sys/internal/ui/mounts/kv", token=ops)
        assert st == 200 and out["data"]["options"] == {"version": "1"}, out
        st, out = call("GET", "/v1/sys/internal/ui/mounts/pki", token=ops)
        assert st == 200 and out["data"]["type"] == "pki" and out["data"]["options"] is None, out
        assert call("GET", "/v1/sys/internal/ui/mounts/nosuch", token=ops) == (403, {"errors": ["permission denied"]})
        st, out = call("GET", "/v1/secret/data/app/config", token=ops)
        assert st == 200 and out["data"]["data"] == {"STR": "v-string", "NUM": 42, "BOOL": True, "OBJ": {"a": [1, 2]}}, out
        md = out["data"]["metadata"]
        assert md["version"] == 1 and md["deletion_time"] == "" and md["destroyed"] is False and md["created_time"], md
        st, out = call("GET", "/v1/secret/data/app/db", token=ops)  # latest version deleted
        assert st == 404 and out["data"]["data"] is None and out["data"]["metadata"]["version"] == 2, out
        assert out["data"]["metadata"]["deletion_time"] != "" and "errors" not in out, out
        st, out = call("GET", "/v1/secret/data/app/db?version=1", token=ops)
        assert st == 200 and out["data"]["data"] == {"PASSWORD": "v-db-1"}, out
        st, out = call("GET", "/v1/secret/metadata/app/db", token=ops)
        assert st == 200 and out["data"]["current_version"] == 2, out
        assert call("GET", "/v1/secret/data/app/missing", token=ops) == (404, {"errors": []})
        st, out = call("GET", "/v1/kv/shared", token=ops)
        assert st == 200 and out["data"] == {"TOKEN": "v-kv1"} and out["lease_duration"] == KV1_LEASE, out
        assert call("GET", "/v1/kv/missing", token=ops) == (404, {"errors": []})
        assert call("GET", "/v1/nothing/here", token=ops) == (403, {"errors": ["permission denied"]})  # ops' policy
        st, out = login("rid-ci", "sid-ci", mount="approle-ci")
        ci = out["auth"]["client_token"]  # no policies defined: unrestricted
        assert call("GET", "/v1/nothing/here", token=ci) == (404, {"errors": []})
        assert call("GET", "/v1/kv/shared", token=ci)[0] == 200

        # Policies
        reader = login("rid-reader", "sid-reader")[1]["auth"]["client_token"]
        assert call("GET", "/v1/secret/data/app/config", token=reader)[0] == 200
        assert call("GET", "/v1/secret/metadata/app/config", token=reader)[0] == 200
        assert call("GET", "/v1/secret/data/app/db", token=reader) == (403, {"errors": ["permission denied"]})
        assert call("GET", "/v1/sys/internal/ui/mounts/secret", token=reader)[0] == 200
        assert call("GET", "/v1/sys/internal/ui/mounts/kv", token=reader)[0] == 403
        assert call("GET", "/v1/kv/shared", token=reader)[0] == 403

        # Namespaces
        assert login("rid-team", "sid-team")[0] == 400  # not in the root namespace
        st, out = login("rid-team", "sid-team", ns="team/a")
        team = out["auth"]["client_token"]
        assert st == 200
        st, out = call("GET", "/v1/secret/data/app/team", token=team, ns="team/a")
        assert st == 200 and out["data"]["data"] == {"T": "v-team"}, out
        assert call("GET", "/v1/team/a/secret/data/app/team", token=team)[0] == 200  # the path form
        assert call("GET", "/v1/a/secret/data/app/team", token=team, ns="team")[0] == 200  # split between both
        assert call("GET", "/v1/secret/data/app/team", token=team)[0] == 403  # token of team/a, asked in root
        assert call("GET", "/v1/secret/data/app/config", token=ops, ns="team/a")[0] == 403  # root token in team/a
        assert call("GET", "/v1/auth/token/lookup-self", token=team, ns="team/a")[1]["data"]["namespace_path"] == "team/a/"
        assert call("GET", "/v1/secret/data/app/team", token=team, ns="team/b")[0] == 403  # no such namespace
        assert login("rid-team", "sid-team", ns="team/b")[0] == 403

        # PKI
        st, pem, hdrs = call("GET", "/v1/pki/ca/pem", raw=True)
        assert st == 200 and pem.startswith(b"-----BEGIN CERTIFICATE-----"), (st, pem[:40])
        with open(os.path.join(work, "pki-ca.pem"), "wb") as f:
            f.write(pem)
        assert call("POST", "/v1/pki/sign/client", {"csr": csr, "common_name": "alice"})[0] == 403  # needs a token
        st, out = call("POST", "/v1/pki/sign/client", {"csr": csr, "common_name": "alice", "ttl": "30m"}, token=ops)
        assert st == 200, (st, out)
        d = out["data"]
        assert d["issuing_ca"].strip() == pem.decode().strip() and d["ca_chain"] == [d["issuing_ca"]], d
        assert re.fullmatch(r"([0-9a-f]{2}:){19}[0-9a-f]{2}", d["serial_number"]) and abs(d["expiration"] - time.time() - 1800) < 60, d
        with open(os.path.join(work, "alice.pem"), "w") as f:
            f.write(d["certificate"] + "\n")
        assert openssl("verify", "-CAfile", "pki-ca.pem", "alice.pem").strip().endswith("OK")
        text = openssl("x509", "-in", "alice.pem", "-noout", "-subject", "-enddate", "-ext", "extendedKeyUsage", "-nameopt", "RFC2253")
        assert "subject=O=dev,O=ops,CN=alice" in text and "TLS Web Client Authentication" in text, text
        st, out = call("PUT", "/v1/pki/sign/client", {"csr": csr, "common_name": "ops-ci", "ttl": 28800}, token=ops)
        assert st == 200 and abs(out["data"]["expiration"] - time.time() - 3600) < 60 and "maxTTL" in out["warnings"][0], out
        st, err = call("POST", "/v1/pki/sign/client", {"csr": csr, "common_name": "mallory"}, token=ops)
        assert st == 400 and err["errors"] == ["common name mallory not allowed by this role"], err
        st, err = call("POST", "/v1/pki/sign/client", {"csr": csr.replace("M", "N", 3), "common_name": "alice"}, token=ops)
        assert st == 400 and "certificate request" in err["errors"][0], err
        st, err = call("POST", "/v1/pki/sign/client", {"csr": "junk", "common_name": "alice"}, token=ops)
        assert st == 400 and "certificate request" in err["errors"][0], err
        st, err = call("POST", "/v1/pki/sign/client", {"csr": csr}, token=ops)  # CN from the CSR: "whatever"
        assert st == 400 and "whatever" in err["errors"][0], err
        assert call("POST", "/v1/pki/sign/nosuch", {"csr": csr, "common_name": "alice"}, token=ops)[0] == 403  # policy
        st, err = call("POST", "/v1/pki/sign/nosuch", {"csr": csr, "common_name": "alice"}, token=ci)
        assert st == 400 and "unknown role" in err["errors"][0], err
        assert call("POST", "/v1/pki/sign/client", {"csr": csr, "common_name": "alice"}, token=reader)[0] == 403

        # Faults
        admin = lambda method, route, body=None: call(method, "/__admin/" + route, body)
        st, out = admin("POST", "faults", {"faults": ["429:login:1:7", "503:kv:1", "garbage:mounts:1", "oversize:kv:1:100000",
                                                     "reset:renew:1", "slow:lookup:1:0.3", "500:pki:1"]})
        assert st == 200 and len(out["faults"]) == 7, out
        st, body, hdrs = call("POST", "/v1/auth/approle/login", {"role_id": "rid-ops", "secret_id": "sid-ops"}, raw=True)
        assert st == 429 and hdrs["Retry-After"] == "7" and json.loads(body)["errors"], (st, body)
        assert login("rid-ops", "sid-ops")[0] == 200
        assert call("GET", "/v1/kv/shared", token=ops) == (503, {"errors": ["Vault is sealed"]})
        st, body, _ = call("GET", "/v1/kv/shared", token=ops, raw=True)
        assert st == 200 and len(body) == 100000, len(body)
        st, body, _ = call("GET", "/v1/sys/internal/ui/mounts/secret", token=ops, raw=True)
        assert st == 200 and body.startswith(b'{"data": {garbage'), body
        try:
            call("POST", "/v1/auth/token/renew-self", {}, token=ops)
            raise AssertionError("reset fault: the connection stayed up")
        except (ConnectionError, urllib.error.URLError, ssl.SSLError, http.client.HTTPException):
            pass
        t0 = time.time()
        assert call("GET", "/v1/auth/token/lookup-self", token=ops)[0] == 200 and time.time() - t0 >= 0.3
        assert call("POST", "/v1/pki/sign/client", {"csr": csr, "common_name": "alice"}, token=ops)[0] == 500
        assert all(f["remaining"] == 0 for f in admin("GET", "faults")[1]["faults"])
        try:
            Fault("boom:kv:1")
            raise AssertionError("a bad fault spec was accepted")
        except ValueError:
            pass
        assert admin("POST", "faults", {"faults": ["429:nowhere:1"]})[0] == 400

        # Revoke, the token list, world replacement, the log
        assert call("POST", "/v1/auth/token/revoke-self", token=reader)[0] == 204
        assert call("GET", "/v1/auth/token/lookup-self", token=reader)[0] == 403
        st, toks = admin("GET", "tokens")
        assert fingerprint(reader) in toks["revoked"] and fingerprint(short) in toks["expired"] and fingerprint(ops) in toks["active"], toks
        world2 = dict(world, mounts=dict(world["mounts"], secret={"type": "kv", "version": 2, "secrets": {"app/config": {"STR": "v-new"}}}))
        assert admin("POST", "world", world2)[0] == 200
        assert call("GET", "/v1/secret/data/app/config", token=ops)[1]["data"]["data"] == {"STR": "v-new"}  # tokens survive
        assert call("GET", "/v1/pki/ca/pem", raw=True)[1] == pem  # the PKI CA survives too
        assert call("GET", "/__admin/pki-ca?mount=pki", raw=True)[1] == pem
        assert call("GET", "/__admin/pki-ca?mount=pki&namespace=team/a")[0] == 404
        assert admin("POST", "world", {"mounts": {"x": {"type": "nosuch"}}})[0] == 400
        assert call("GET", "/v1/sys/health")[0] == 200
        assert call("GET", "/v1/kv/shared?secret_id=sid-ops&token=" + ops, token=ops)[0] == 200
        st, log = admin("GET", "log")
        text = json.dumps(log)
        leaked = [h for h in hidden + [ops, reader, team, marker] if h in text]
        assert not leaked, f"the log holds {len(leaked)} secret(s)"
        assert all(e["token"] is None or len(e["token"]) == 12 for e in log)
        signs = [e["pki"] for e in log if "pki" in e]
        assert [(s["common_name"], s["ttl"]) for s in signs] == [("alice", 1800), ("ops-ci", 3600)], signs
        assert any(e.get("role_name") == "ops" for e in log) and any(e["namespace"] == "team/a" for e in log)
        pki_root = httpd.state.pki.root
        assert os.path.isdir(pki_root) and pki_root.startswith(work + os.sep), pki_root
        httpd.shutdown()
        httpd.server_close()
        httpd.state.pki.close()
        httpd = None
        assert not os.path.exists(pki_root), "the PKI scratch directory outlived the server"
        print("fake_vault self-test: ok")
        return 0
    except Exception as exc:  # AssertionError and anything unexpected: report, exit 1
        line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.name == "self_test"), 0)
        print(f"fake_vault self-test: FAILED at line {line}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            httpd.state.pki.close()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="Local Vault/OpenBao-compatible server for ghostpod tests")
    ap.add_argument("--world", help="world JSON file (/dev/stdin or a pipe: it is read whole before listening)")
    ap.add_argument("--ready-file", help="written (atomically) with the port once listening")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--log", help="append one JSON line per request (tokens as fingerprints only)")
    ap.add_argument("--fault", action="append", default=[], help="KIND:ROUTE:COUNT[:ARG], repeatable")
    ap.add_argument("--tmp-dir", help="parent of the PKI CAs' scratch directory (default: $TMPDIR)")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.world:
        ap.error("--world is required")
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    try:
        faults = [Fault(s) for s in args.fault]
    except ValueError as e:
        ap.error(str(e))
    with open(args.world, encoding="utf-8") as f:
        try:
            world = load_world(json.load(f))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            print(f"fake_vault: bad world: {type(e).__name__}: {e}", file=sys.stderr)
            return 2
    httpd = make_server(world, args.host, args.port, faults, args.log, args.tls_cert, args.tls_key, args.tmp_dir)
    # shutdown() waits for serve_forever() to return, so it must not run on the serving thread.
    stop = lambda *_: threading.Thread(target=httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if args.ready_file:
            tmp = f"{args.ready_file}.tmp.{os.getpid()}"
            with open(tmp, "w") as f:
                f.write(f"{httpd.server_address[1]}\n")
            os.rename(tmp, args.ready_file)
        httpd.serve_forever(poll_interval=0.1)
    finally:
        httpd.server_close()
        httpd.state.pki.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
