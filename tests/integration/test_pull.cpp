// `ghostpod pull` end to end: the real binary against the fake Infisical server
// (tests/support/fake_infisical.py) over TLS on 127.0.0.1, with real namespaces and real files.
// Runs as whoever runs the suite; scripts/test.sh runs it as root and as an unprivileged user.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/infisical_server.hpp"
#include "tests/support/leak_scan.hpp"
#include "tests/support/tmux.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kTalosconfig = "context: ghost\ncontexts:\n  ghost:\n    endpoints: [10.0.0.1]\n    ca: LS0tLS1C\n";
const std::string kKubeconfig =
    "apiVersion: v1\nkind: Config\nclusters:\n- cluster: {server: \"https://10.0.0.1:6443\"}\n  name: ghost\n"
    "current-context: ghost\n";

// ---- worlds -----------------------------------------------------------------------------

json identity(const std::string& secret = "secret", const json& extra = json::object()) {
    json i = {{"clientId", "id"}, {"clientSecret", secret}};
    i.update(extra);
    return i;
}

// Project "proj-1" whose "dev" environment has these folders; `envs` adds other environments.
std::string world(const json& dev_folders, const json& envs = json::object(), const json& ident = identity()) {
    json environments = envs;
    environments["dev"] = {{"folders", dev_folders}};
    return json{{"identities", json::array({ident})},
                {"projects", {{"proj-1", {{"slug", "demo"}, {"environments", environments}}}}}}
        .dump();
}

// Just the root folder with these secrets.
std::string root_world(const json& secrets, const json& ident = identity()) {
    return world({{"/", {{"secrets", secrets}}}}, json::object(), ident);
}

// ---- the client side --------------------------------------------------------------------

// A vault with the identity "id" stored, a config in the fixture dir pointing at the server,
// and every ghostpod run's output kept (for "no value in the output" checks).
struct Puller {
    VaultFixture v;
    std::string config = v.dir / "config.json";
    std::vector<RunResult> history;

    explicit Puller(const FakeInfisical* server, const json& infisical = json::object(), bool with_identity = true) {
        if (server) configure(*server, infisical);
        if (with_identity) store_identity("secret");
    }
    ~Puller() { (void)gp({"lock", "--discard"}); }  // never leave a session behind, whatever the test did

    // Writes the config: the server with its CA, proj-1/dev, then `patch` (null removes a key).
    void configure(const FakeInfisical& server, const json& patch = json::object()) {
        json inf = {{"host", server.url()}, {"project_id", "proj-1"}, {"environment", "dev"}, {"cacert", server.ca_path()}};
        inf.merge_patch(patch);
        write_text(config, json{{"version", 1}, {"infisical", inf}}.dump(2));
    }
    void store_identity(const std::string& secret) {
        auto r = gp({"identity", "set"}, {}, "id\n" + secret + "\n");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    }
    RunOptions options(const std::map<std::string, std::string>& env = {}, const std::string& stdin_data = {}) const {
        RunOptions o = v.options(stdin_data);
        for (const char* name : {"INFISICAL_DOMAIN", "INFISICAL_API_URL", "INFISICAL_PROJECT_ID", "INFISICAL_TOKEN",
                                 "INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN", "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
                                 "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", "INFISICAL_CUSTOM_HEADERS",
                                 "INFISICAL_AUTH_ORGANIZATION_SLUG"})
            o.env[name] = "";
        for (auto& [k, val] : env) o.env[k] = val;
        return o;
    }
    RunResult gp_with(std::vector<std::string> args, const RunOptions& o) {
        args.insert(args.begin(), {"--config", config});
        history.push_back(v.gp_with(args, o));
        return history.back();
    }
    RunResult gp(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                 const std::string& stdin_data = {}) {
        return gp_with(args, options(env, stdin_data));
    }
    // `pull [flags] -- sh -c SCRIPT` (no command when the script is empty).
    RunResult pull(const std::vector<std::string>& flags, const std::string& script = {},
                   const std::map<std::string, std::string>& env = {}) {
        std::vector<std::string> args = {"pull"};
        args.insert(args.end(), flags.begin(), flags.end());
        if (!script.empty()) args.insert(args.end(), {"--", "sh", "-c", script});
        return gp(args, env);
    }
    RunResult in_ghost(const std::string& script) { return gp({"run", "--", "sh", "-c", script}); }
    std::string home(const std::string& rel) const { return v.dir / rel; }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<json> entries(const json& log, const std::string& route) {
    std::vector<json> out;
    for (const auto& e : log)
        if (e.value("route", "") == route) out.push_back(e);
    return out;
}

// The server logs a request after answering it: wait (up to 5 s) until `done` holds.
json log_when(const FakeInfisical& server, const std::function<bool(const json&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    json log = server.log();
    while (!done(log) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        log = server.log();
    }
    return log;
}

bool has(const json& list, const std::string& item) {
    return std::find(list.begin(), list.end(), json(item)) != list.end();
}

// A refused pull: exit 4, a ghostpod message containing each needle, and no value anywhere.
void expect_refused(const RunResult& r, const std::vector<std::string>& needles, const std::string& value) {
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 4);
    CHECK(r.err.rfind("ghostpod: ", 0) == 0);
    for (const auto& n : needles) CHECK(contains(r.err, n));
    CHECK_FALSE(contains(r.out + r.err, value));
}

}  // namespace

// ---- a. the happy path ------------------------------------------------------------------

TEST_CASE("pull over TLS puts the age key, talosconfig and kubeconfig at their paths inside the ghost only", "[pull]") {
    TempDir keys;
    auto keygen = run({"age-keygen", "-o", keys / "key.txt"});
    REQUIRE(keygen.exit_code == 0);
    std::string age_key = read_text(keys / "key.txt");
    auto at = age_key.find("# public key: ");
    REQUIRE(at != std::string::npos);
    std::string recipient = age_key.substr(at + 14, age_key.find('\n', at) - at - 14);

    FakeInfisical server(root_world({{"SOPS_AGE_KEY", age_key}, {"TALOSCONFIG", kTalosconfig}, {"KUBECONFIG", kKubeconfig}}));
    Puller p(&server, {{"cacert", nullptr}});  // trusted through --cacert this time
    RunOptions enc;
    enc.stdin_data = "sealed for the ghost\n";
    auto sealed = run({"age", "-r", recipient, "-o", p.v.dir / "note.age"}, enc);
    REQUIRE(sealed.exit_code == 0);

    auto r = p.pull({"--cacert", server.ca_path()},
                    "cat ~/.config/sops/age/keys.txt; printf '\\036'; cat ~/.talos/config; printf '\\036'; "
                    "cat ~/.kube/config; printf '\\036%s\\036%s\\036%s\\036' \"$SOPS_AGE_KEY_FILE\" \"$TALOSCONFIG\" "
                    "\"$KUBECONFIG\"; age -d -i \"$SOPS_AGE_KEY_FILE\" note.age");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> parts;
    for (std::size_t from = 0;;) {
        auto sep = r.out.find('\036', from);
        parts.push_back(r.out.substr(from, sep == std::string::npos ? std::string::npos : sep - from));
        if (sep == std::string::npos) break;
        from = sep + 1;
    }
    REQUIRE(parts.size() == 7);
    CHECK(parts[0] == age_key);
    CHECK(parts[1] == kTalosconfig);
    CHECK(parts[2] == kKubeconfig);
    CHECK(parts[3] == p.home(".config/sops/age/keys.txt"));
    CHECK(parts[4] == p.home(".talos/config"));
    CHECK(parts[5] == p.home(".kube/config"));
    CHECK(parts[6] == "sealed for the ghost\n");
    for (const char* rel : {".config/sops/age/keys.txt", ".talos/config", ".kube/config"})
        CHECK_FALSE(fs::exists(fs::symlink_status(p.home(rel))));
}

// ---- b. precedence and references -------------------------------------------------------

TEST_CASE("own secrets beat imports, later imports beat earlier, later paths beat earlier, and references are expanded",
          "[pull]") {
    json dev = {{"/", {{"secrets", {{"OWN", "own"}, {"WHERE", "root"}, {"C", "deep"}, {"B", "${C}"}, {"REF", "${B}-x"},
                                     {"CROSS", "${prod.one.IMP}"}}},
                       {"imports", json::array({{{"environment", "prod"}, {"path", "/one"}}, {{"environment", "prod"}, {"path", "/two"}}})}}},
                {"/sub", {{"secrets", {{"WHERE", "sub"}}}}}};
    json prod = {{"prod", {{"folders", {{"/one", {{"secrets", {{"OWN", "imported"}, {"IMP", "first"}}}}},
                                        {"/two", {{"secrets", {{"IMP", "second"}}}}}}}}}};
    FakeInfisical server(world(dev, prod));
    Puller p(&server, {{"paths", json::array({"/", "/sub"})}});
    auto r = p.pull({}, "cd \"$GHOSTPOD_DIR/infisical\" && for k in OWN IMP WHERE REF CROSS; do printf '%s=%s\\n' $k \"$(cat $k)\"; done");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "OWN=own\nIMP=second\nWHERE=sub\nREF=deep-x\nCROSS=first\n");
}

// ---- c. refusals ------------------------------------------------------------------------

TEST_CASE("a wrong client secret exits 4 with the server's message and reqId", "[pull]") {
    std::string value = random_marker("value-");
    FakeInfisical server(root_world({{"KUBECONFIG", value}}));
    Puller p(&server, json::object(), false);
    p.store_identity("not-the-secret");
    expect_refused(p.pull({}, "cat ~/.kube/config"), {"401", "Invalid credentials", "reqId req-"}, value);
}

TEST_CASE("after three failed logins even the right secret is refused as temporarily locked", "[pull]") {
    std::string value = random_marker("value-");
    FakeInfisical server(root_world({{"KUBECONFIG", value}}));
    Puller p(&server, json::object(), false);
    p.store_identity("not-the-secret");
    for (int i = 0; i < 3; ++i) expect_refused(p.pull({}, "true"), {"Invalid credentials"}, value);
    p.store_identity("secret");
    expect_refused(p.pull({}, "cat ~/.kube/config"), {"temporarily locked"}, value);
}

TEST_CASE("an unknown project exits 4 with a hint naming project_id", "[pull]") {
    std::string value = random_marker("value-");
    FakeInfisical server(root_world({{"KUBECONFIG", value}}));
    Puller p(&server, {{"project_id", "no-such-project"}});
    auto r = p.pull({}, "true");
    expect_refused(r, {"404", "hint: ", "project_id"}, value);
    Puller q(&server, {{"environment", "no-such-env"}});
    expect_refused(q.pull({}, "true"), {"404", "no-such-env"}, value);
}

TEST_CASE("a server certificate from an untrusted CA exits 4 with a hint about --cacert", "[pull]") {
    std::string value = random_marker("value-");
    FakeInfisical server(root_world({{"KUBECONFIG", value}}));
    Puller p(&server, {{"cacert", nullptr}});
    expect_refused(p.pull({}, "true"), {"hint: ", "--cacert"}, value);
    CHECK(server.log().empty());  // refused in the handshake: not a single request answered
}

TEST_CASE("a garbage JSON answer exits 4 saying it is not a JSON object", "[pull]") {
    std::string value = random_marker("value-");
    FakeInfisical server(root_world({{"KUBECONFIG", value}}), {.faults = {"garbage:secrets:0"}});
    Puller p(&server);
    expect_refused(p.pull({}, "true"), {"not a JSON object"}, value);
}

TEST_CASE("an answer larger than max_response_mib exits 4 naming the limit", "[pull]") {
    std::string value = random_marker("value-");
    FakeInfisical server(root_world({{"KUBECONFIG", value}}), {.faults = {"oversize:secrets:0:3000000"}});
    Puller p(&server, {{"max_response_mib", 1}});
    expect_refused(p.pull({}, "true"), {"larger than 1 MiB"}, value);
}

TEST_CASE("an answer slower than the timeout exits 4 within the retry budget", "[pull]") {
    std::string value = random_marker("value-");
    FakeInfisical server(root_world({{"KUBECONFIG", value}}), {.faults = {"slow:secrets:0:3"}});
    Puller p(&server, {{"timeout", "1s"}, {"retry_for", "2s"}});
    auto start = std::chrono::steady_clock::now();
    auto r = p.pull({}, "true");
    double elapsed = seconds_since(start);
    expect_refused(r, {"timed out"}, value);
    CHECK(elapsed >= 1.0);
    // retry_for + timeout bound the network part of the whole pull; the rest is the unlock.
    CHECK(elapsed < 8.0);
}

TEST_CASE("pull without a machine identity in the vault exits 2 and says to run identity set", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "k"}}));
    Puller p(&server, json::object(), false);
    auto r = p.pull({}, "true");
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "identity set"));
    CHECK(entries(server.log(), "login").empty());
}

TEST_CASE("a failed first pull ends the session it started", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube"}}), {.faults = {"500:secrets:0"}});
    Puller p(&server, {{"retry_for", "1s"}});
    auto r = p.pull({"--no-shell"});
    INFO(r.err);
    CHECK(r.exit_code == 4);
    CHECK(p.gp({"lock"}).exit_code == 5);  // 5: no session running
}

// ---- d. bounded retries -----------------------------------------------------------------

TEST_CASE("rate limiting is retried after retry-after and the pull succeeds", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube"}}), {.faults = {"429:secrets:2:1"}});
    Puller p(&server);
    auto start = std::chrono::steady_clock::now();
    auto r = p.pull({}, "cat ~/.kube/config");
    double elapsed = seconds_since(start);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "kube");
    CHECK(entries(server.log(), "secrets").size() == 3);
    CHECK(elapsed >= 2.0);
}

TEST_CASE("while rate limited, the pull says so on stderr: one line per retry without a terminal", "[pull][notice]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube"}}), {.faults = {"429:secrets:2:1"}});
    Puller p(&server);
    auto r = p.pull({}, "cat ~/.kube/config");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "kube");
    std::size_t notices = 0;
    for (std::size_t at = 0; (at = r.err.find("ghostpod: server busy (429), retrying in 1 s\n", at)) != std::string::npos; ++at) ++notices;
    CHECK(notices == 2);
    // --quiet says nothing of it (the first pull's session ended with its command).
    server.set_faults({"429:secrets:1:1"});
    auto quiet = p.pull({"--quiet"}, "true");
    CHECK(quiet.exit_code == 0);
    CHECK_FALSE(contains(quiet.err, "retrying"));
}

TEST_CASE("on a terminal, the retry notice is the status line, rewritten in place and cleared", "[pull][notice][tty]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube"}}), {.faults = {"429:secrets:2:3"}});
    Puller p(&server);
    write_text(p.v.dir / "pass", p.v.passphrase + "\n");
    Tmux t;
    start_shell(t, p.v, "GHOSTPOD_CONFIG='" + p.config + "'");
    t.keys("gp --passphrase-fd 3 pull --no-shell 3<pass; echo pulled-$((1+1))");
    CHECK(t.shows("ghostpod: server busy (429), retrying in 3 s", 15));
    CHECK(t.shows("pulled-2", 30));
    INFO(t.screen());
    CHECK(t.count("retrying in") == 0);
}

TEST_CASE("a server error that persists is retried a bounded number of times, then exits 4", "[pull]") {
    std::string value = random_marker("value-");
    FakeInfisical server(root_world({{"KUBECONFIG", value}}), {.faults = {"500:secrets:0"}});
    Puller p(&server, {{"retry_for", "3s"}});
    auto start = std::chrono::steady_clock::now();
    auto r = p.pull({}, "true");
    double elapsed = seconds_since(start);
    expect_refused(r, {"500", "after", "attempts"}, value);
    CHECK(elapsed < 8.0);  // retry_for (3 s) bounds the retries of the whole pull, plus the unlock
    auto listings = entries(server.log(), "secrets").size();
    CHECK(listings > 1);
    CHECK(listings < 12);
}

// ---- e. old servers ---------------------------------------------------------------------

TEST_CASE("a server without the v4 routes is read through /api/v3/secrets/raw", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube"}}), {.faults = {"v4gone:secrets:0"}});
    Puller p(&server);
    auto r = p.pull({}, "cat ~/.kube/config");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "kube");
    bool v3 = false;
    for (const auto& e : entries(server.log(), "secrets"))
        v3 = v3 || (e["path"] == "/api/v3/secrets/raw" && e["status"] == 200 && e["query"].value("workspaceId", "") == "proj-1" &&
                    e["query"].value("include_imports", "") == "true");
    CHECK(v3);
}

// ---- f. revoke --------------------------------------------------------------------------

TEST_CASE("lock revokes the session's token on the server", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube"}}));
    Puller p(&server);
    auto r = p.pull({"--no-shell"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto listings = entries(server.log(), "secrets");
    REQUIRE(listings.size() == 1);
    std::string token = listings[0]["token"];
    CHECK(has(server.tokens()["active"], token));
    REQUIRE(p.gp({"lock"}).exit_code == 0);
    auto log = log_when(server, [](const json& l) { return !entries(l, "revoke").empty(); });
    std::vector<json> auth;
    for (const auto& e : log)
        if (e["route"] == "login" || e["route"] == "renew" || e["route"] == "revoke") auth.push_back(e);
    REQUIRE_FALSE(auth.empty());
    CHECK(auth.back()["route"] == "revoke");
    CHECK(auth.back()["status"] == 200);
    CHECK(auth.back()["token"] == token);
    auto tokens = server.tokens();
    CHECK(has(tokens["revoked"], token));
    CHECK_FALSE(has(tokens["active"], token));
}

TEST_CASE("a one-shot pull revokes its token when its command ends", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube"}}));
    Puller p(&server);
    auto r = p.pull({}, "true");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto log = log_when(server, [](const json& l) { return !entries(l, "revoke").empty(); });
    auto listings = entries(log, "secrets");
    auto revokes = entries(log, "revoke");
    REQUIRE(listings.size() == 1);
    REQUIRE(revokes.size() == 1);
    CHECK(revokes[0]["token"] == listings[0]["token"]);
    CHECK(has(server.tokens()["revoked"], listings[0]["token"].get<std::string>()));
}

// ---- g. refresh -------------------------------------------------------------------------

TEST_CASE("a failed refresh keeps the old contents and a later one swaps in the new", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube-v1"}, {"GONE", "soon"}}));
    Puller p(&server, {{"retry_for", "2s"}});
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    server.set_faults({"500:secrets:0"});
    auto failed = p.pull({});
    INFO(failed.err);
    CHECK(failed.exit_code == 4);
    auto old = p.in_ghost("cat ~/.kube/config; ls \"$GHOSTPOD_DIR/infisical\"");
    CHECK(old.exit_code == 0);
    CHECK(old.out == "kube-v1GONE\nKUBECONFIG\n");

    server.set_faults({});
    server.set_world(root_world({{"KUBECONFIG", "kube-v2"}}));
    auto refreshed = p.pull({});
    INFO(refreshed.err);
    CHECK(refreshed.exit_code == 0);
    auto now = p.in_ghost("cat ~/.kube/config; ls \"$GHOSTPOD_DIR/infisical\"");
    CHECK(now.out == "kube-v2KUBECONFIG\n");
    CHECK(p.gp({"lock"}).exit_code == 0);
}

// ---- h. offline cache -------------------------------------------------------------------

TEST_CASE("with the server gone, pull uses the offline cache of the last pull and says so", "[pull]") {
    auto server = std::make_unique<FakeInfisical>(root_world({{"KUBECONFIG", "cached-kube"}}));
    Puller p(server.get(), {{"retry_for", "2s"}});  // refused connections are retried this long
    REQUIRE(p.pull({}, "true").exit_code == 0);
    server.reset();  // stopped: connections are refused now

    auto r = p.pull({}, "cat ~/.kube/config");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "cached-kube");
    CHECK(contains(r.err, "offline cache"));
    auto offline = p.pull({"--offline"}, "cat ~/.kube/config");
    INFO(offline.err);
    CHECK(offline.exit_code == 0);
    CHECK(offline.out == "cached-kube");
}

TEST_CASE("a session's first pull of unchanged secrets leaves the vault as it was, and changed ones rewrite its cache", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube-1"}}));
    Puller p(&server);
    REQUIRE(p.pull({}, "true").exit_code == 0);  // pins the identity, saves the cache
    (void)p.gp({"lock", "--discard"});
    std::string before = read_bytes(p.v.vault);
    auto again = p.pull({}, "cat ~/.kube/config");
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.out == "kube-1");
    (void)p.gp({"lock", "--discard"});
    CHECK(read_bytes(p.v.vault) == before);  // the same pull, saved within the hour: no vault write

    server.set_world(root_world({{"KUBECONFIG", "kube-2"}}));
    REQUIRE(p.pull({}, "true").exit_code == 0);
    (void)p.gp({"lock", "--discard"});
    CHECK(read_bytes(p.v.vault) != before);
    server.set_world(root_world({}));  // the server empty: --offline must show the new pull
    auto offline = p.pull({"--offline"}, "cat ~/.kube/config");
    INFO(offline.err);
    CHECK(offline.exit_code == 0);
    CHECK(offline.out == "kube-2");
}

TEST_CASE("pull --offline on a vault without a cache exits 4 naming the missing cache", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube"}}));
    Puller p(&server);
    auto r = p.pull({"--offline"}, "true");
    INFO(r.err);
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "offline cache"));
    CHECK(contains(r.err, "holds none"));
    CHECK(server.log().empty());  // --offline never contacts the server
}

// ---- i. renewal -------------------------------------------------------------------------

TEST_CASE("the session renews a short-lived token before it expires", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", "kube"}}, identity("secret", {{"accessTokenTTL", 4}})));
    Puller p(&server);
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    std::this_thread::sleep_for(6s);
    auto renews = entries(server.log(), "renew");
    REQUIRE_FALSE(renews.empty());
    CHECK(renews[0]["status"] == 200);
    auto status = p.gp({"status", "--json"});
    REQUIRE(status.exit_code == 0);
    CHECK(json::parse(status.out)["session"]["pull"]["renewals"].get<int>() >= 1);
    CHECK(p.in_ghost("cat ~/.kube/config").out == "kube");  // the ghost is untouched by it
    CHECK(p.gp({"lock"}).exit_code == 0);
}

// ---- j. leaks ---------------------------------------------------------------------------

TEST_CASE("pulled values, the client secret and the access token never reach disk, argv, environ or output", "[pull]") {
    std::string value = random_marker("value-"), kube = random_marker("kube-"), client_secret = random_marker("client-");
    std::string token_marker = random_marker("tokenmark");
    FakeInfisical server(root_world({{"DB_PASSWORD", value}, {"KUBECONFIG", "token: " + kube + "\n"}},
                                    identity(client_secret, {{"tokenMarker", token_marker}, {"accessTokenTTL", 4}})));
    Puller p(&server, json::object(), false);
    p.store_identity(client_secret);
    std::vector<std::string> needles = {value, kube, client_secret, token_marker};

    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    {
        Spawned sleeper(gp(p.v.vault, {"--config", p.config, "run", "--", "sleep", "30"}), p.options());
        std::this_thread::sleep_for(4500ms);  // past a renewal (80% of 4 s): a second token exists
        CHECK(processes_holding(needles).empty());
        // The marker is really in the ghost (its hash, not the value, comes out).
        unsigned char digest[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(value.data()), value.size());
        char hex[sizeof digest * 2 + 1];
        sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
        CHECK(p.in_ghost("sha256sum < \"$GHOSTPOD_DIR/infisical/DB_PASSWORD\"").out == std::string(hex) + "  -\n");
        CHECK_FALSE(entries(server.log(), "renew").empty());
    }
    p.gp({"status", "--json"});
    REQUIRE(p.gp({"lock"}).exit_code == 0);
    log_when(server, [](const json& l) { return !entries(l, "revoke").empty(); });

    // The vault and its previous generation are scanned too: the offline cache and the identity
    // in them must be ciphertext.
    std::vector<fs::path> excluded;
    for (const char* root : {"/tmp", "/var/tmp", "/dev/shm"}) {
        INFO(root);
        CHECK(files_containing(root, needles, excluded).empty());
    }
    CHECK(files_containing(p.v.dir.path(), needles, excluded).empty());  // HOME of every run
    for (const auto& r : p.history) {
        INFO(r.err);
        for (const auto& n : needles) CHECK_FALSE(contains(r.out + r.err, n));
    }
}

// ---- k. terraform -----------------------------------------------------------------------

TEST_CASE("tfvars and an env_value mapping hand a pulled value to terraform, escaped, inside only", "[pull]") {
    std::string value = "tf\"quote${x}end";
    FakeInfisical server(root_world({{"TF_SECRET", value}}));
    Puller p(&server, {{"tfvars", {{"path", "~/infra/ghost.auto.tfvars"}, {"variables", {{"infisical_client_secret", "TF_SECRET"}}}}},
                       {"secrets", {{"TF_SECRET", {{"env", "TF_VAR_infisical_client_secret"}, {"env_value", true}}}}}});
    auto r = p.pull({}, "cat ~/infra/ghost.auto.tfvars; printf '\\036%s' \"$TF_VAR_infisical_client_secret\"");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto sep = r.out.find('\036');
    REQUIRE(sep != std::string::npos);
    CHECK(contains(r.out.substr(0, sep), "infisical_client_secret = \"tf\\\"quote$${x}end\""));
    CHECK(r.out.substr(sep + 1) == value);
    CHECK_FALSE(fs::exists(fs::symlink_status(p.home("infra/ghost.auto.tfvars"))));
}

// ---- l. .infisical.json -----------------------------------------------------------------

TEST_CASE("without project_id in the config, .infisical.json and INFISICAL_DOMAIN say where to pull from", "[pull]") {
    FakeInfisical server(world({{"/", {{"secrets", {{"KUBECONFIG", "kube-dev"}}}}}},
                               {{"staging", {{"folders", {{"/", {{"secrets", {{"KUBECONFIG", "kube-staging"}}}}}}}}}}));
    Puller p(&server, {{"host", nullptr}, {"project_id", nullptr}, {"environment", nullptr}});
    fs::create_directories(p.home("repo"));
    write_text(p.home("repo/.infisical.json"), R"({"workspaceId": "proj-1", "defaultEnvironment": "staging"})");
    RunOptions o = p.options({{"INFISICAL_DOMAIN", server.url()}});
    o.cwd = p.home("repo");
    // A .infisical.json found by the search is used once allowed (test_trust.cpp checks the refusal).
    REQUIRE(p.gp_with({"allow"}, o).exit_code == 0);
    auto r = p.gp_with({"pull", "--", "cat", p.home(".kube/config")}, o);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "kube-staging");
    auto listings = entries(server.log(), "secrets");
    REQUIRE(listings.size() == 1);
    CHECK(listings[0]["query"]["projectId"] == "proj-1");
}

// ---- the session keeps the server it was unlocked for --------------------------------------

TEST_CASE("a refresh that names another server or environment is refused and sends the identity nowhere", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", kKubeconfig}}));
    FakeInfisical elsewhere(root_world({{"KUBECONFIG", "apiVersion: v1\nkind: Config\n# elsewhere\n"}}));
    Puller p(&server);
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);

    p.configure(elsewhere);  // what a process of the same user could ask the socket for
    auto moved = p.pull({"--no-shell"});
    INFO(moved.err);
    CHECK(moved.exit_code == 5);
    CHECK(contains(moved.err, "it pulls from " + server.url()));
    CHECK(contains(moved.err, "ghostpod lock"));
    CHECK(entries(elsewhere.log(), "login").empty());

    p.configure(server, {{"environment", "prod"}});
    CHECK(p.pull({"--no-shell"}).exit_code == 5);
    p.configure(server);
    auto same = p.pull({"--no-shell"});
    INFO(same.err);
    CHECK(same.exit_code == 0);
    CHECK(p.in_ghost("cat ~/.kube/config").out == kKubeconfig);
}

TEST_CASE("a session started by run can be refreshed by pull from the configured server", "[pull]") {
    FakeInfisical server(root_world({{"KUBECONFIG", kKubeconfig}}));
    Puller p(&server);
    REQUIRE(p.gp({"run", "--linger", "1m", "--", "true"}).exit_code == 0);
    auto r = p.pull({"--no-shell"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(p.in_ghost("cat ~/.kube/config").out == kKubeconfig);
}

TEST_CASE("pull from a command in the session refreshes that session", "[pull][inside]") {
    FakeInfisical server(root_world({{"KUBECONFIG", kKubeconfig}}));
    Puller p(&server);
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    const std::string changed = "apiVersion: v1\nkind: Config\n# changed on the server\n";
    server.set_world(root_world({{"KUBECONFIG", changed}}));
    // The command in the ghost has no capabilities: it joins nothing, the holder pulls.
    auto r = p.in_ghost("'" + ghostpod_binary() + "' pull --no-shell && cat ~/.kube/config");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "refreshed: 0 added, 1 changed (infisical/KUBECONFIG), 0 removed\n" + changed);
    CHECK(p.in_ghost("cat ~/.kube/config").out == changed);
}
