#!/usr/bin/env python3
# A local Infisical-compatible server for ghostpod's tests, demo and benchmark, written from
# /work/notes/fake-server-spec.md and /work/shared/infisical-api.md. Standard library only.
#
#   fake_infisical.py --world WORLD.json --ready-file PATH [--tls-cert C --tls-key K] [--port 0]
#                     [--host 127.0.0.1] [--lockout-seconds 300] [--log FILE] [--fault SPEC]...
#   fake_infisical.py --self-test
#
# Serves universal-auth login, token renew/revoke, v4 and v3 secret reads, fault injection and
# /__admin/{faults,log,world,tokens}. Never prints or logs a token, client secret or secret value:
# tokens appear only as a fingerprint (first 12 hex chars of their SHA-256).
import argparse, base64, hashlib, hmac, json, os, re, secrets, signal, socket, socketserver, ssl
import sys, threading, time, urllib.error, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HIDDEN = "<hidden-by-infisical>"
STAMP = "2026-01-01T00:00:00.000Z"
REFERENCE = re.compile(r"\$\{([^}]+)\}")
FAULT_KINDS = {"429", "500", "503", "slow", "garbage", "oversize", "v4gone", "reset"}
FAULT_ROUTES = {"login", "renew", "revoke", "secrets", "any"}
LOCKOUT_THRESHOLD = 3


def fingerprint(token):
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def stable_uuid(*parts):
    h = hashlib.md5("|".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def norm_path(p):
    return "/" + "/".join(x for x in (p or "/").split("/") if x)


def to_json(obj):
    try:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates in a value: fall back to \u escapes
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


class ApiError(Exception):
    def __init__(self, status, error, message, headers=()):
        super().__init__(status)
        self.status, self.error, self.message, self.headers = status, error, message, list(headers)


def validation_error(issues):
    return ApiError(422, "ValidationFailure", issues)


def load_world(w):
    """Turns the world file into lookup tables, once per load (never per request)."""
    idents = {}
    for i in w.get("identities", []):
        idents[str(i["clientId"])] = {
            "secret": str(i["clientSecret"]), "org": i.get("organizationSlug"),
            "ttl": int(i.get("accessTokenTTL", 2592000)), "maxttl": int(i.get("accessTokenMaxTTL", 2592000)),
            "marker": str(i.get("tokenMarker") or "")}  # tests: every token issued for it contains this
    projects = {}
    for pid, p in w.get("projects", {}).items():
        envs = {}
        for env, e in p.get("environments", {}).items():
            folders = {}
            for raw_path, f in (e.get("folders") or {}).items():
                path = norm_path(raw_path)
                items = []
                for key, v in (f.get("secrets") or {}).items():
                    v = v if isinstance(v, dict) else {"value": v}
                    value = v.get("value", "")
                    tags = [{"id": stable_uuid("tag", t), "slug": t, "color": "#3b82f6", "name": t}
                            for t in v.get("tags", [])]
                    items.append({"id": stable_uuid(pid, env, path, key), "key": key,
                                  "value": value if isinstance(value, str) else json.dumps(value),
                                  "comment": v.get("comment", ""), "type": v.get("type", "shared"),
                                  "version": int(v.get("version", 1)), "tags": tags,
                                  "tagset": {t["slug"] for t in tags}})
                imports = [(str(i["environment"]), norm_path(i.get("path", "/"))) for i in f.get("imports", [])]
                folders[path] = {"id": stable_uuid(pid, env, path), "secrets": items, "imports": imports,
                                 "values": {s["key"]: s["value"] for s in items},
                                 "by_key": {s["key"]: s for s in items}}
            # The root and every parent of a listed folder exist, empty unless listed.
            parts_of = lambda path: [x for x in path.split("/") if x]
            for parent in {"/"} | {norm_path("/".join(parts_of(p)[:n])) for p in folders for n in range(len(parts_of(p)))}:
                folders.setdefault(parent, {"id": stable_uuid(pid, env, parent), "secrets": [], "imports": [],
                                            "values": {}, "by_key": {}})
            envs[env] = folders
        projects[str(pid)] = {"slug": p.get("slug"), "envs": envs}
    return {"identities": idents, "projects": projects}


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
    def __init__(self, world, faults, lockout_seconds, log_path):
        self.lock = threading.Lock()
        self.world = world  # replaced whole, never mutated: readers need no lock
        self.faults = faults
        self.lockout_seconds = lockout_seconds
        self.failures = {}  # clientId -> [failed attempts, locked until]
        self.tokens = {}  # token -> record (fingerprint, ttl, maxttl, expiry, max expiry, revoked)
        self.log = []
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None

    def record(self, entry):
        line = json.dumps(entry)
        with self.lock:
            self.log.append(entry)
            if self.log_file:
                self.log_file.write(line + "\n")
                self.log_file.flush()

    def take_faults(self, route, is_v4):
        """Consumes the faults matching this request: total sleep, first terminal fault."""
        sleep, terminal = 0.0, None
        with self.lock:
            for f in self.faults:
                if f.remaining == 0 or (f.route != "any" and f.route != route):
                    continue
                if f.kind == "v4gone" and not is_v4:
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

    def issue(self, client, ttl, maxttl, max_expiry=None):
        now = time.time()
        if max_expiry is None:
            max_expiry = now + maxttl if maxttl else 0
        expiry = now + ttl if ttl else 0
        if max_expiry and (not expiry or expiry > max_expiry):
            expiry = max_expiry
        b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        header = b64(b'{"alg":"HS256","typ":"JWT"}')
        payload = b64(json.dumps({"identityId": stable_uuid("identity", client), "authTokenType": "identityAccessToken",
                                  "identityAccessTokenId": secrets.token_hex(16), "iat": int(now)}, separators=(",", ":")).encode())
        # tokenMarker (leak tests): appended to the middle part, so the literal marker is in every token.
        payload += self.world["identities"].get(client, {}).get("marker", "")
        token = f"{header}.{payload}.{b64(secrets.token_bytes(32))}"  # "eyJ…": never "st."
        self.tokens[token] = {"fp": fingerprint(token), "client": client, "ttl": ttl, "maxttl": maxttl,
                              "expiry": expiry, "max_expiry": max_expiry, "revoked": False}
        return {"accessToken": token, "expiresIn": int(round(expiry - now)) if expiry else 0,
                "accessTokenMaxTTL": maxttl, "tokenType": "Bearer"}

    def check_token(self, token):
        rec = self.tokens.get(token) if token else None
        if rec is None:
            raise ApiError(401, "UnauthorizedError", "Invalid access token")
        if rec["revoked"]:
            raise ApiError(401, "UnauthorizedError", "Failed to authorize revoked access token, access token is revoked")
        if rec["expiry"] and time.time() >= rec["expiry"]:
            raise ApiError(403, "TokenError", "Your token has expired. Please re-authenticate.")
        return rec


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):  # HTTPServer.server_bind does a reverse DNS lookup; skip it
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):  # TLS handshake failures, client aborts
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            print(f"fake_infisical: {type(exc).__name__} while serving a request", file=sys.stderr)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120
    server_version = "fake-infisical/1"

    def log_message(self, *args):  # silent: the request log is --log / /__admin/log
        pass

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

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
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}", f"Content-Type: {ctype}",
                 f"Content-Length: {length}", f"Date: {self.date_time_string()}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, status, body, ctype="application/json; charset=utf-8", headers=()):
        if not isinstance(body, bytes):
            body = to_json(body)
        # One write for head and body: no Nagle/delayed-ACK stall between two small writes.
        self.wfile.write(self.head(status, ctype, len(body), headers) + body)

    def error_body(self, e):
        return {"reqId": "req-" + secrets.token_hex(8), "statusCode": e.status, "message": e.message, "error": e.error}

    def parse_json_body(self, raw):
        if not raw:
            return {}
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":  # what Fastify answers for a JSON route
            raise ApiError(415, "UnsupportedMediaType", f"Unsupported Media Type: {ctype or 'none'}")
        try:
            body = json.loads(raw)
        except ValueError:
            raise ApiError(400, "BadRequest", "Body is not valid JSON but content-type is set to 'application/json'")
        if not isinstance(body, dict):
            raise validation_error([{"code": "invalid_type", "expected": "object", "path": [], "message": "Expected object"}])
        return body

    # ---- dispatch -------------------------------------------------------------------------
    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        raw = self.read_body()
        if path.startswith("/__admin/") or path == "/__admin":
            return self.admin(path, raw)
        route, is_v4, name = self.classify(self.command, path)
        auth = self.headers.get("Authorization")
        bearer = auth[7:].strip() if auth and auth[:7].lower() == "bearer " else None
        body, body_error = {}, None
        if self.command in ("POST", "PUT", "PATCH"):
            try:
                body = self.parse_json_body(raw)
            except ApiError as e:
                body_error = e
        presented = bearer or (body.get("accessToken") if route in ("renew", "revoke") else None)
        logged_query = {k: (fingerprint(v) if k.lower() in ("accesstoken", "token", "clientsecret") else v)
                        for k, v in query.items()}
        entry = {"method": self.command, "path": path, "query": logged_query,
                 "authorization": None if auth is None else ("bearer" if bearer is not None else "other"),
                 "token": fingerprint(presented) if isinstance(presented, str) and presented else None,
                 "status": 0, "route": route}
        try:
            entry["status"] = self.serve(route, is_v4, name, path, query, body, body_error, bearer)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True
        finally:
            self.server.state.record(entry)

    @staticmethod
    def classify(method, path):
        """Returns (route name, is a v4 secrets route, secret name or None)."""
        fixed = {("POST", "/api/v1/auth/universal-auth/login"): "login", ("POST", "/api/v1/auth/token/renew"): "renew",
                 ("POST", "/api/v1/auth/token/revoke"): "revoke", ("GET", "/api/v4/secrets"): "secrets",
                 ("GET", "/api/v3/secrets/raw"): "secrets"}
        if (method, path) in fixed:
            return fixed[(method, path)], path.startswith("/api/v4/"), None
        for prefix in ("/api/v4/secrets/", "/api/v3/secrets/raw/"):
            rest = path[len(prefix):]
            if method == "GET" and path.startswith(prefix) and rest and "/" not in rest:
                return "secret", prefix.startswith("/api/v4/"), urllib.parse.unquote(rest)
        return "unknown", False, None

    def serve(self, route, is_v4, name, path, query, body, body_error, bearer):
        """Answers one API request; returns the status for the log (0: connection reset)."""
        state = self.server.state
        sleep, fault = state.take_faults("secrets" if route == "secret" else route, is_v4)
        if sleep:
            time.sleep(sleep)
        try:
            if fault is not None and fault.kind not in ("503", "garbage", "oversize", "reset"):
                if fault.kind == "429":
                    n = fault.arg
                    raise ApiError(429, "RateLimitExceeded", f"Rate limit exceeded. Please try again in {n} seconds",
                                   [("retry-after", n)])
                if fault.kind == "500":
                    raise ApiError(500, "InternalServerError", "Something went wrong")
                raise ApiError(404, "NotFound", f"Route {self.command}:{path} not found")  # v4gone
            if fault is None:
                if body_error is not None and route != "unknown":
                    raise body_error
                status, obj, headers = self.route(route, is_v4, name, path, query, body, bearer)
                self.send(status, obj, headers=headers)
                return status
        except ApiError as e:
            self.send(e.status, self.error_body(e), headers=e.headers)
            return e.status
        if fault.kind == "503":
            self.send(503, b"upstream unavailable", "text/plain; charset=utf-8")
            return 503
        if fault.kind == "garbage":
            self.send(200, b'{"secrets": [ {garbage')
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
        prefix, suffix = b'{"secrets":[],"pad":"', b'"}'
        pad = max(0, size - len(prefix) - len(suffix))
        self.wfile.write(self.head(200, "application/json; charset=utf-8", len(prefix) + pad + len(suffix)) + prefix)
        chunk = b"x" * 65536
        while pad > 0:
            self.wfile.write(chunk[:pad] if pad < len(chunk) else chunk)
            pad -= len(chunk)
        self.wfile.write(suffix)

    # ---- API routes -----------------------------------------------------------------------
    def route(self, route, is_v4, name, path, query, body, bearer):
        state = self.server.state
        if route == "login":
            return 200, self.login(body), ()
        if route in ("renew", "revoke"):
            token = body.get("accessToken")
            if not isinstance(token, str) or not token:
                raise validation_error([{"code": "invalid_type", "expected": "string", "received": "undefined",
                                         "path": ["accessToken"], "message": "Required"}])
            with state.lock:
                if route == "revoke":
                    rec = state.tokens.get(token)
                    if rec is None or rec["revoked"]:
                        raise ApiError(401, "UnauthorizedError", "Failed to authorize revoked access token, access token is revoked"
                                       if rec else "Invalid access token")
                    rec["revoked"] = True
                    return 200, {"message": "Successfully revoked access token"}, ()
                rec = state.check_token(token)  # expiry never passes the max TTL: one check covers both
                rec["revoked"] = True  # the old token dies with its renewal
                return 200, state.issue(rec["client"], rec["ttl"], rec["maxttl"], rec["max_expiry"]), ()
        if route in ("secrets", "secret"):
            if not bearer:
                raise ApiError(401, "UnauthorizedError", "Token missing")
            with state.lock:
                state.check_token(bearer)
            obj = self.read_secrets(is_v4, name, query)
            body = to_json(obj)
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag:
                return 304, b"", [("ETag", etag)]
            return 200, body, [("ETag", etag)]
        raise ApiError(404, "NotFound", f"Route {self.command}:{path} not found")

    def login(self, body):
        state = self.server.state
        if self.headers.get("Authorization") is not None:
            raise ApiError(403, "Forbidden", "Authorization header must not be sent on login")
        issues = [{"code": "invalid_type", "expected": "string", "received": "undefined", "path": [f], "message": "Required"}
                  for f in ("clientId", "clientSecret") if not isinstance(body.get(f), str)]
        if issues:
            raise validation_error(issues)
        client = body["clientId"]
        with state.lock:
            ident = state.world["identities"].get(client)
            if ident is None:
                raise ApiError(401, "UnauthorizedError", "Invalid credentials")
            now = time.time()
            failures = state.failures.setdefault(client, [0, 0.0])
            if failures[1] > now:
                raise ApiError(401, "UnauthorizedError", "This identity auth method is temporarily locked, please try again later")
            if failures[1]:
                failures[:] = [0, 0.0]  # the lock ran out: start counting afresh
            if not hmac.compare_digest(body["clientSecret"].encode("utf-8", "surrogatepass"),
                                       ident["secret"].encode("utf-8", "surrogatepass")):
                failures[0] += 1
                if failures[0] >= LOCKOUT_THRESHOLD:
                    failures[1] = now + state.lockout_seconds
                raise ApiError(401, "UnauthorizedError", "Invalid credentials")
            if ident["org"] and body.get("organizationSlug") != ident["org"]:
                raise ApiError(403, "PermissionDenied", "Organization slug does not match")
            failures[:] = [0, 0.0]
            return state.issue(client, ident["ttl"], ident["maxttl"])

    def read_secrets(self, is_v4, name, query):
        flags = ("recursive", "includeImports" if is_v4 else "include_imports", "expandSecretReferences", "viewSecretValue")
        issues = [{"received": query[f], "code": "invalid_enum_value", "options": ["true", "false"], "path": [f],
                   "message": f"Invalid enum value. Expected 'true' | 'false', received '{query[f]}'"}
                  for f in flags if f in query and query[f] not in ("true", "false")]
        if issues:
            raise validation_error(issues)
        recursive, with_imports, expand = (query.get(f) == "true" for f in flags[:3])
        hidden = query.get("viewSecretValue") == "false"
        projects = self.server.state.world["projects"]
        env = query.get("environment")
        if is_v4:
            pid = query.get("projectId")
        else:
            pid = query.get("workspaceId") or query.get("workspaceSlug")
            if not query.get("workspaceId") and pid:
                pid = next((k for k, p in projects.items() if p["slug"] == pid), pid)
        if not pid or not env:
            raise ApiError(400, "BadRequest", "Missing project id or environment" if is_v4 else "Missing workspace id or environment")
        project = projects.get(pid)
        if project is None or env not in project["envs"]:
            raise ApiError(404, "NotFound", f"Environment with slug '{env}' in project with ID {pid} not found")
        folders = project["envs"][env]
        path = norm_path(query.get("secretPath", "/"))
        if path not in folders:
            raise ApiError(404, "NotFound", f"Folder with path '{path}' in environment '{env}' was not found")
        tags = {t for t in query.get("tagSlugs", "").split(",") if t}

        def render(s, senv, spath):
            value = expand_references(project, senv, spath, s["value"]) if expand and not hidden else s["value"]
            return {"id": s["id"], "_id": s["id"], "workspace": pid, "environment": senv, "version": s["version"],
                    "type": s["type"], "secretKey": s["key"], "secretValue": HIDDEN if hidden else value,
                    "secretComment": s["comment"], "secretPath": spath, "secretValueHidden": hidden,
                    "skipMultilineEncoding": None, "createdAt": STAMP, "updatedAt": STAMP, "tags": s["tags"],
                    "secretMetadata": []}

        def imported(paths):  # (env, path, folder) for each import of these folders, in order
            for p in paths:
                for ienv, ipath in folders[p]["imports"]:
                    f = project["envs"].get(ienv, {}).get(ipath)
                    if f is not None:
                        yield ienv, ipath, f

        if name is not None:  # one secret: the folder, then its imports from last to first
            want = query.get("type", "shared")
            for senv, spath, f in [(env, path, folders[path])] + (list(imported([path]))[::-1] if with_imports else []):
                s = f["by_key"].get(name)
                if s is not None and s["type"] == want:
                    return {"secret": render(s, senv, spath)}
            raise ApiError(404, "NotFound", f"Secret with name '{name}' not found")
        paths = [path]
        if recursive:
            paths += sorted(p for p in folders if p != path and (path == "/" or p.startswith(path + "/")))
        result = {"secrets": [render(s, env, p) for p in paths for s in folders[p]["secrets"]
                              if not tags or s["tagset"] & tags]}
        if with_imports:
            result["imports"] = [{"secretPath": ipath, "environment": ienv, "folderId": f["id"],
                                  "secrets": [render(s, ienv, ipath) for s in f["secrets"] if not tags or s["tagset"] & tags]}
                                 for ienv, ipath, f in imported(paths)]
        return result

    # ---- admin ----------------------------------------------------------------------------
    def admin(self, path, raw):
        state = self.server.state
        try:
            body = json.loads(raw) if raw else {}
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
                with state.lock:
                    state.world = world
                return self.send(200, {"message": "world replaced"})
            if (self.command, path) == ("GET", "/__admin/tokens"):
                now, out = time.time(), {"active": [], "revoked": [], "expired": []}
                with state.lock:
                    for rec in state.tokens.values():
                        kind = "revoked" if rec["revoked"] else "expired" if rec["expiry"] and now >= rec["expiry"] else "active"
                        out[kind].append(rec["fp"])
                return self.send(200, out)
            e = ApiError(404, "NotFound", f"Route {self.command}:{path} not found")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            e = ApiError(400, "BadRequest", f"bad admin request: {type(exc).__name__}: {exc}")
        self.send(e.status, self.error_body(e))


def expand_references(project, env, path, value, depth=0):
    """${KEY} (same env and folder), ${env.KEY} (env, "/"), ${env.a.b.KEY} (env, "/a/b"); 5 levels."""
    if depth >= 5 or "${" not in value:
        return value

    def substitute(m):
        parts = [x.strip() for x in m.group(1).split(".")]
        if len(parts) == 1:
            renv, rpath = env, path
        else:
            renv, rpath = parts[0], "/" + "/".join(parts[1:-1])
        folder = project["envs"].get(renv, {}).get(rpath)
        if folder is None or parts[-1] not in folder["values"]:
            return m.group(0)  # unresolved references stay as written
        return expand_references(project, renv, rpath, folder["values"][parts[-1]], depth + 1)

    return REFERENCE.sub(substitute, value)


def make_server(world, host="127.0.0.1", port=0, faults=(), lockout_seconds=300, log_path=None, cert=None, key=None):
    httpd = Server((host, port), Handler)
    httpd.state = State(world, list(faults), lockout_seconds, log_path)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        # The handshake runs in the connection's thread on its first read, not in accept().
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    return httpd


def self_test():
    world = {"identities": [{"clientId": "id-1", "clientSecret": "s3cret"}],
             "projects": {"p1": {"slug": "demo", "environments": {
                 "dev": {"folders": {"/": {"secrets": {"A": "a", "REF": "${A}-${prod.shared.B}"},
                                           "imports": [{"environment": "prod", "path": "/shared"}]},
                                     "/sub": {"secrets": {"C": {"value": "c", "comment": "x"}}}}},
                 "prod": {"folders": {"/shared": {"secrets": {"B": "b"}}}}}}}}
    httpd = make_server(load_world(world))
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"

    def call(method, path, body=None, token=None):
        req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    try:
        st, login = call("POST", "/api/v1/auth/universal-auth/login", {"clientId": "id-1", "clientSecret": "s3cret"})
        assert st == 200 and login["tokenType"] == "Bearer" and not login["accessToken"].startswith("st."), st
        tok = login["accessToken"]
        q = "?projectId=p1&environment=dev&recursive=true&includeImports=true&expandSecretReferences=true"
        st, v4 = call("GET", "/api/v4/secrets" + q, token=tok)
        got = {s["secretKey"]: s["secretValue"] for s in v4["secrets"]}
        assert st == 200 and got == {"A": "a", "REF": "a-b", "C": "c"}, (st, got)
        assert v4["imports"][0]["secrets"][0]["secretKey"] == "B", v4["imports"]
        st, v3 = call("GET", "/api/v3/secrets/raw/?workspaceSlug=demo&environment=dev", token=tok)
        assert st == 200 and [s["secretKey"] for s in v3["secrets"]] == ["A", "REF"] and "imports" not in v3, v3
        st, err = call("GET", "/api/v4/secrets?projectId=p1&environment=dev&recursive=yes", token=tok)
        assert st == 422 and isinstance(err["message"], list), err
        st, _ = call("POST", "/api/v1/auth/token/revoke", {"accessToken": tok})
        assert st == 200
        st, err = call("GET", "/api/v4/secrets?projectId=p1&environment=dev", token=tok)
        assert st == 401 and err["error"] == "UnauthorizedError" and err["reqId"].startswith("req-"), err
        assert all(e["token"] is None or len(e["token"]) == 12 for e in httpd.state.log)
        print("fake_infisical self-test: ok")
        return 0
    except Exception as exc:  # AssertionError and anything unexpected: report, exit 1
        print(f"fake_infisical self-test: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        httpd.shutdown()
        httpd.server_close()


def main():
    ap = argparse.ArgumentParser(description="Local Infisical-compatible server for ghostpod tests")
    ap.add_argument("--world")
    ap.add_argument("--ready-file")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--lockout-seconds", type=float, default=300)
    ap.add_argument("--log")
    ap.add_argument("--fault", action="append", default=[], help="KIND:ROUTE:COUNT[:ARG], repeatable")
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
        world = load_world(json.load(f))
    httpd = make_server(world, args.host, args.port, faults, args.lockout_seconds, args.log, args.tls_cert, args.tls_key)
    # shutdown() waits for serve_forever() to return, so it must not run on the serving thread.
    stop = lambda *_: threading.Thread(target=httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.ready_file:
        tmp = f"{args.ready_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{httpd.server_address[1]}\n")
        os.rename(tmp, args.ready_file)
    httpd.serve_forever(poll_interval=0.1)
    httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
