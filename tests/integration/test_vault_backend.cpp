// `ghostpod pull` from HashiCorp Vault / OpenBao end to end: the real binary against the fake
// Vault server (tests/support/fake_vault.py) over TLS on 127.0.0.1, with real namespaces and
// real files: KV v1 and v2, namespaces, Vault's error shapes, retries, size limits, TLS, the
// token's renewal and revocation, the offline cache, refreshes, both sources at once, and no
// secret anywhere it must not be.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/infisical_server.hpp"
#include "tests/support/leak_scan.hpp"
#include "tests/support/vault_puller.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kTalosconfig = "context: prod\ncontexts:\n  prod:\n    endpoints: [10.0.0.1]\n    ca: Q0E=\n";

// A world with the AppRole and these mounts (the KV ones by default).
std::string world(const std::string& role_id, const std::string& secret_id, const json& mounts,
                  const json& approle_extra = json::object(), const std::string& marker = "MARK") {
    return json{{"approles", json::array({vault_approle(role_id, secret_id, marker, approle_extra)})}, {"mounts", mounts}}.dump();
}

json kv_mounts(const json& talos = {{"TALOSCONFIG", kTalosconfig}, {"TOKEN", "t-1"}}) {
    return {{"secret", {{"type", "kv"}, {"version", 2}, {"secrets", {{"talos", talos}, {"kube/prod", {{"REPLICAS", 3}, {"LABELS", {{"a", "b"}}}}}}}}},
            {"kv", {{"type", "kv"}, {"version", 1}, {"secrets", {{"shared", {{"SOPS_AGE_KEY", "AGE-SECRET-KEY-1X"}}}}}}}};
}

const json kKv = {{"kv", {"secret/talos", "secret/kube/prod", "kv/shared"}}};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void expect_refused(const RunResult& r, const std::vector<std::string>& needles, const std::vector<std::string>& secrets) {
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 4);
    CHECK(r.err.rfind("ghostpod: ", 0) == 0);
    for (const auto& n : needles) CHECK(contains(r.err, n));
    for (const auto& s : secrets) CHECK_FALSE(contains(r.out + r.err, s));
}

}  // namespace

// ---- KV -------------------------------------------------------------------------------------

TEST_CASE("pull reads KV v2 and v1 paths into vault/MOUNT/PATH/KEY, the built-in names at the tools' paths", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts()));
    VaultPuller p(&server, "rid", "sid", kKv);
    auto r = p.pull({}, "cd \"$GHOSTPOD_DIR/vault\" && find . -type f | sort && stat -c %a secret/talos/TOKEN && "
                        "cat ~/.talos/config && echo \"$TALOSCONFIG $SOPS_AGE_KEY_FILE\" && cat ~/.config/sops/age/keys.txt && echo && "
                        "cat secret/kube/prod/REPLICAS secret/kube/prod/LABELS");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "./kv/shared/SOPS_AGE_KEY\n./secret/kube/prod/LABELS\n./secret/kube/prod/REPLICAS\n./secret/talos/TALOSCONFIG\n"
                   "./secret/talos/TOKEN\n400\n" +
                       kTalosconfig + p.home(".talos/config") + " " + p.home(".config/sops/age/keys.txt") +
                       "\nAGE-SECRET-KEY-1X\n3{\"a\":\"b\"}");
    CHECK_FALSE(fs::exists(fs::symlink_status(p.home(".talos/config"))));  // outside: untouched
    // The preflight came first for each path, as the vault CLI does it.
    auto log = server.log();
    REQUIRE(vault_log_entries(log, "mounts").size() == 3);
    CHECK(vault_log_entries(log, "kv").size() == 3);
    CHECK(vault_log_entries(log, "login").size() == 1);
}

TEST_CASE("vault.secrets maps a KV key to a path and a variable holding its value", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts()));
    VaultPuller p(&server, "rid", "sid",
                  {{"kv", {"secret/talos"}},
                   {"secrets", {{"TOKEN", {{"env", "TALOS_TOKEN"}, {"env_value", true}}}, {"TALOSCONFIG", {{"path", "~/talos.yaml"}}}}}});
    auto r = p.pull({}, "printf '%s|' \"$TALOS_TOKEN\"; cat ~/talos.yaml; test -e ~/.talos/config || echo no-default");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "t-1|" + kTalosconfig + "no-default\n");
}

TEST_CASE("a namespace reaches its own AppRole and KV through X-Vault-Namespace, set by VAULT_NAMESPACE too", "[vault]") {
    json w = {{"approles", json::array()},
              {"namespaces", {{"team/a", {{"approles", json::array({vault_approle("rid-a", "sid-a", "NS")})},
                                          {"mounts", {{"secret", {{"type", "kv"}, {"version", 2}, {"secrets", {{"app", {{"K", "in-a"}}}}}}}}}}}}}};
    FakeVault server(w.dump());
    VaultPuller p(&server, "rid-a", "sid-a", {{"kv", {"secret/app"}}, {"namespace", "team/a"}});
    auto r = p.pull({}, "cat \"$GHOSTPOD_DIR/vault/secret/app/K\"");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "in-a");
    for (const auto& e : server.log()) CHECK(e["namespace"] == "team/a");

    VaultPuller q(&server, "rid-a", "sid-a", {{"kv", {"secret/app"}}});  // no namespace in the config
    auto root = q.pull({}, "true");
    CHECK(root.exit_code == 4);  // the root namespace has no such AppRole
    auto env = q.pull({}, "cat \"$GHOSTPOD_DIR/vault/secret/app/K\"", {{"VAULT_NAMESPACE", "team/a"}});
    INFO(env.err);
    CHECK(env.exit_code == 0);
    CHECK(env.out == "in-a");
}

// ---- errors ---------------------------------------------------------------------------------

TEST_CASE("a wrong secret_id exits 4 with the server's errors list and a hint to identity set", "[vault]") {
    FakeVault server(world("rid", "right-secret", kv_mounts()));
    VaultPuller p(&server, "rid", "wrong-secret", kKv);
    auto r = p.pull({}, "true");
    expect_refused(r, {"log in to " + server.url(), "400 invalid role or secret ID", "identity set --backend vault"},
                   {"wrong-secret", "right-secret"});
    CHECK(contains(p.gp({"status"}).out, "session:    none running"));  // the session it started is gone
}

TEST_CASE("a KV path the policy denies exits 4 with 403 permission denied, naming the path", "[vault]") {
    json w = json::parse(world("rid", "sid", kv_mounts(), {{"token_policies", {"ops"}}}));
    w["policies"] = {{"ops", {"secret/data/talos"}}};
    FakeVault server(w.dump());
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/talos", "secret/kube/prod"}}});
    auto r = p.pull({}, "true");
    expect_refused(r, {"read secret/kube/prod", "403 permission denied", "read access to secret/kube/prod"}, {"t-1"});
}

TEST_CASE("a missing path and a deleted latest version exit 4 telling one from the other", "[vault]") {
    json mounts = kv_mounts();
    mounts["secret"]["secrets"]["gone"] = {{"versions", {{{"data", {{"K", "v1"}}}}, {{"data", {{"K", "v2"}}}, {"deleted", true}}}}};
    FakeVault server(world("rid", "sid", mounts));
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/nothing"}}});
    expect_refused(p.pull({}, "true"), {"read secret/nothing (KV v2)", ": 404", "check vault.kv"}, {});
    p.configure(server, {{"kv", {"secret/gone"}}});
    expect_refused(p.pull({}, "true"), {"latest version (2) is deleted or destroyed"}, {"v1"});
}

TEST_CASE("a sealed server and rate limiting are retried with backoff, honouring Retry-After", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts()), {true, {"503:login:1", "429:kv:2:1"}});
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/talos"}}});
    auto start = std::chrono::steady_clock::now();
    auto r = p.pull({}, "cat \"$GHOSTPOD_DIR/vault/secret/talos/TOKEN\"");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "t-1");
    CHECK(seconds_since(start) >= 2.0);  // two Retry-After: 1 waits
    auto log = server.log();
    auto logins = vault_log_entries(log, "login");
    REQUIRE(logins.size() == 2);
    CHECK(logins[0]["status"] == 503);
    CHECK(logins[1]["status"] == 200);
    auto reads = vault_log_entries(log, "kv");
    REQUIRE(reads.size() == 3);
    CHECK(reads[0]["status"] == 429);
    CHECK(reads[2]["status"] == 200);
}

TEST_CASE("a server error that persists is retried within vault.retry_for, then exits 4 with its errors", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts()), {true, {"500:kv:0"}});
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/talos"}}, {"retry_for", "2s"}});
    auto start = std::chrono::steady_clock::now();
    auto r = p.pull({}, "true");
    double took = seconds_since(start);
    expect_refused(r, {"500 1 error occurred:", "internal error", "attempts"}, {"t-1"});
    CHECK(took < 15.0);
    auto reads = vault_log_entries(server.log(), "kv");
    CHECK(reads.size() >= 2);
    CHECK(reads.size() <= 10);
}

TEST_CASE("an answer larger than vault.max_response_mib exits 4 naming the limit", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts()), {true, {"oversize:kv:0:3000000"}});
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/talos"}}, {"max_response_mib", 1}});
    expect_refused(p.pull({}, "true"), {"larger than 1 MiB", "vault.max_response_mib"}, {});
}

TEST_CASE("a server certificate from an untrusted CA is refused before any request, with a hint to vault.cacert", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts()));
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/talos"}}, {"cacert", nullptr}});
    expect_refused(p.pull({}, "true"), {"vault.cacert (or VAULT_CACERT)"}, {"sid"});
    CHECK(server.log().empty());  // the AppRole was never sent
    // VAULT_CACERT is honoured as the vault CLI does.
    auto r = p.pull({}, "cat \"$GHOSTPOD_DIR/vault/secret/talos/TOKEN\"", {{"VAULT_CACERT", server.ca_path()}});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "t-1");
}

TEST_CASE("plain http to another machine is refused before connecting, VAULT_ADDR names the server", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts()));
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/talos"}}, {"address", "http://192.0.2.1:8200"}});
    auto start = std::chrono::steady_clock::now();
    auto r = p.pull({}, "true");
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "plain http:// would carry the identity"));
    CHECK(seconds_since(start) < 10.0);
    auto env = p.pull({}, "cat \"$GHOSTPOD_DIR/vault/secret/talos/TOKEN\"", {{"VAULT_ADDR", server.url()}});
    INFO(env.err);
    CHECK(env.exit_code == 0);
    CHECK(env.out == "t-1");
}

TEST_CASE("pull without an AppRole in the vault exits 2 and says to run identity set --backend vault", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts()));
    VaultPuller p(&server, "", "", kKv);
    auto r = p.pull({}, "true");
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "the vault holds no AppRole"));
    CHECK(contains(r.err, "ghostpod identity set --backend vault"));
    CHECK(server.log().empty());
}

TEST_CASE("the AppRole is pinned to its first pull's server and CA, and refused elsewhere before connecting", "[vault][trust]") {
    FakeVault home(world("rid", "sid", kv_mounts()));
    FakeVault elsewhere(world("rid", "sid", kv_mounts()));
    VaultPuller p(&home, "rid", "sid", {{"kv", {"secret/talos"}}});
    auto first = p.pull({}, "true");
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(contains(first.err, "pinned the vault's AppRole to " + home.url()));
    // The same server, another CA: whoever holds that CA's key could pose as the server.
    std::string ca = p.home("other-ca.pem");
    auto made = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                     p.home("other-ca.key"), "-out", ca, "-days", "2", "-subj", "/CN=another CA"});
    INFO(made.err);
    REQUIRE(made.exit_code == 0);
    auto other_ca = p.pull({}, "true", {{"VAULT_CACERT", ca}});
    INFO(other_ca.err);
    CHECK(other_ca.exit_code == 2);
    CHECK(contains(other_ca.err, "this pull would trust the CA file " + ca));
    CHECK(vault_log_entries(home.log(), "login").size() == 1);
    p.configure(elsewhere, {{"kv", {"secret/talos"}}});
    auto refused = p.pull({}, "true");
    INFO(refused.err);
    CHECK(refused.exit_code == 2);
    CHECK(contains(refused.err, "pinned to " + home.url() + "; nothing was sent"));
    CHECK(contains(refused.err, "ghostpod identity set --backend vault --host " + elsewhere.url()));
    CHECK(vault_log_entries(elsewhere.log(), "login").empty());
    // Pinned anew with --host, the AppRole goes there and nowhere else.
    auto repin = p.gp({"identity", "set", "--backend", "vault", "--host", elsewhere.url(), "--cacert", elsewhere.ca_path()}, {},
                      "rid\nsid\n");
    INFO(repin.err);
    REQUIRE(repin.exit_code == 0);
    auto moved = p.pull({}, "cat \"$GHOSTPOD_DIR/vault/secret/talos/TOKEN\"");
    INFO(moved.err);
    CHECK(moved.exit_code == 0);
    CHECK(moved.out == "t-1");
    CHECK(vault_log_entries(home.log(), "login").size() == 1);
}

// ---- the token ------------------------------------------------------------------------------

TEST_CASE("lock revokes the session's Vault token on the server", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts()));
    VaultPuller p(&server, "rid", "sid", kKv);
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    auto reads = vault_log_entries(server.log(), "kv");
    REQUIRE_FALSE(reads.empty());
    std::string token = reads[0]["token"];
    CHECK(json_has(server.tokens()["active"], token));
    REQUIRE(p.gp({"lock"}).exit_code == 0);
    auto log = vault_log_when(server, [](const json& l) { return !vault_log_entries(l, "revoke").empty(); });
    auto revokes = vault_log_entries(log, "revoke");
    REQUIRE(revokes.size() == 1);
    CHECK(revokes[0]["status"] == 204);
    CHECK(revokes[0]["token"] == token);
    CHECK(json_has(server.tokens()["revoked"], token));
    CHECK_FALSE(json_has(server.tokens()["active"], token));
}

TEST_CASE("the session renews a short-lived Vault token with renew-self before it expires", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts(), {{"token_ttl", 4}}));
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/talos"}}});
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    std::this_thread::sleep_for(6s);
    auto renews = vault_log_entries(server.log(), "renew");
    REQUIRE_FALSE(renews.empty());
    CHECK(renews[0]["status"] == 200);
    CHECK(vault_log_entries(server.log(), "login").size() == 1);  // renewed, not logged in again
    auto status = p.gp({"status", "--json"});
    REQUIRE(status.exit_code == 0);
    CHECK(json::parse(status.out)["session"]["vault"]["renewals"].get<int>() >= 1);
    CHECK(p.in_ghost("cat \"$GHOSTPOD_DIR/vault/secret/talos/TOKEN\"").out == "t-1");
}

// ---- refresh and the offline cache --------------------------------------------------------

TEST_CASE("a failed Vault refresh keeps the old contents and a later one swaps in the new", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts({{"TOKEN", "t-1"}, {"GONE", "soon"}})));
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/talos"}}, {"retry_for", "1s"}});
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    server.set_faults({"500:kv:0"});
    auto failed = p.pull({});
    INFO(failed.err);
    CHECK(failed.exit_code == 4);
    auto old = p.in_ghost("cd \"$GHOSTPOD_DIR/vault/secret/talos\" && ls && cat TOKEN");
    CHECK(old.out == "GONE\nTOKEN\nt-1");

    server.set_faults({});
    server.set_world(world("rid", "sid", kv_mounts({{"TOKEN", "t-2"}})));
    auto refreshed = p.pull({});
    INFO(refreshed.err);
    CHECK(refreshed.exit_code == 0);
    CHECK(p.in_ghost("cd \"$GHOSTPOD_DIR/vault/secret/talos\" && ls && cat TOKEN").out == "TOKEN\nt-2");
}

TEST_CASE("with the Vault server gone, pull uses the offline cache and says so, --offline never contacts it", "[vault]") {
    auto server = std::make_unique<FakeVault>(world("rid", "sid", kv_mounts()));
    VaultPuller p(server.get(), "rid", "sid", {{"kv", {"secret/talos"}}, {"retry_for", "1s"}});
    REQUIRE(p.pull({}, "true").exit_code == 0);
    auto cached = p.pull({"--offline"}, "cat \"$GHOSTPOD_DIR/vault/secret/talos/TOKEN\"");
    INFO(cached.err);
    CHECK(cached.exit_code == 0);
    CHECK(cached.out == "t-1");
    CHECK(vault_log_entries(server->log(), "kv").size() == 1);  // only the first pull's
    server.reset();  // connections are refused now
    auto r = p.pull({}, "cat \"$GHOSTPOD_DIR/vault/secret/talos/TOKEN\"");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "t-1");
    CHECK(contains(r.err, "Vault offline cache"));
}

TEST_CASE("a refresh asking for another Vault server or KV path is refused and sends the AppRole nowhere", "[vault]") {
    FakeVault server(world("rid", "sid", kv_mounts()));
    FakeVault other(world("rid", "sid", kv_mounts()));
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/talos"}}});
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    p.configure(other, {{"kv", {"secret/talos"}}});
    auto r = p.pull({});
    INFO(r.err);
    CHECK(r.exit_code == 5);
    CHECK(contains(r.err, "another server, CA, namespace, KV path or PKI role"));
    p.configure(server, {{"kv", {"secret/talos", "kv/shared"}}});
    CHECK(p.pull({}).exit_code == 5);
    CHECK(other.log().empty());
}

// ---- both sources ---------------------------------------------------------------------------

TEST_CASE("a project with Infisical and Vault fills the ghost from both, Vault's key wins a shared path", "[vault]") {
    FakeVault vault_server(world("rid", "sid", kv_mounts({{"KUBECONFIG", "from-vault"}})));
    FakeInfisical infisical(json{{"identities", json::array({{{"clientId", "id"}, {"clientSecret", "secret"}}})},
                                 {"projects", {{"proj-1", {{"slug", "demo"}, {"environments", {{"dev", {{"folders", {{"/", {{"secrets",
                                                {{"KUBECONFIG", "from-infisical"}, {"ONLY_INFISICAL", "i"}}}}}}}}}}}}}}}}
                                .dump());
    VaultPuller p(&vault_server, "rid", "sid", {{"kv", {"secret/talos"}}},
                  {{"infisical", {{"host", infisical.url()}, {"project_id", "proj-1"}, {"environment", "dev"}, {"cacert", infisical.ca_path()}}}});
    REQUIRE(p.gp({"identity", "set"}, {}, "id\nsecret\n").exit_code == 0);
    auto r = p.pull({}, "cat ~/.kube/config; echo; cat \"$GHOSTPOD_DIR/infisical/KUBECONFIG\" \"$GHOSTPOD_DIR/infisical/ONLY_INFISICAL\"");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "from-vault\nfrom-infisicali");
    CHECK(contains(r.err, "infisical/KUBECONFIG and vault/secret/talos/KUBECONFIG both map to ~/.kube/config"));
    auto shown = p.gp({"identity", "show"});
    INFO(shown.err);
    CHECK(shown.exit_code == 0);
    CHECK(contains(shown.out, "infisical:\n  client id: id\n  client secret: stored\n  host: " + infisical.url() + "/api (pinned by first pull)\n"));
    CHECK(contains(shown.out, "\n\nvault:\n  role_id: rid\n  secret_id: stored\n  host: " + vault_server.url() + " (pinned by first pull)\n"));
    CHECK_FALSE(contains(shown.out, "sid"));
}

// ---- leaks ----------------------------------------------------------------------------------

TEST_CASE("KV values, the secret_id and the token never reach disk, argv, environ or output", "[vault]") {
    std::string value = random_marker("vvalue-"), secret_id = random_marker("secretid-"), marker = random_marker("vtoken");
    FakeVault server(world("rid", secret_id, kv_mounts({{"DB_PASSWORD", value}}), {{"token_ttl", 4}}, marker));
    VaultPuller p(&server, "rid", secret_id, {{"kv", {"secret/talos"}}});
    std::vector<std::string> needles = {value, secret_id, marker};
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    {
        Spawned sleeper(gp(p.v.vault, {"--config", p.config, "run", "--", "sleep", "30"}), p.options());
        std::this_thread::sleep_for(4500ms);  // past a renewal (80% of 4 s)
        CHECK(processes_holding(needles).empty());
        CHECK(p.in_ghost("test \"$(cat \"$GHOSTPOD_DIR/vault/secret/talos/DB_PASSWORD\")\" = " + value + " && echo same").out ==
              "same\n");
        CHECK_FALSE(vault_log_entries(server.log(), "renew").empty());
    }
    REQUIRE(p.gp({"lock"}).exit_code == 0);
    vault_log_when(server, [](const json& l) { return !vault_log_entries(l, "revoke").empty(); });
    for (const char* root : {"/tmp", "/var/tmp", "/dev/shm"}) {
        INFO(root);
        CHECK(files_containing(root, needles).empty());
    }
    CHECK(files_containing(p.v.dir.path(), needles).empty());
    for (std::size_t i = 0; i < p.history.size(); ++i) {
        if (contains(p.history[i].out, "same")) continue;  // the comparison above printed no value either
        INFO(p.history[i].err);
        for (const auto& n : needles) CHECK_FALSE(contains(p.history[i].out + p.history[i].err, n));
    }
}
