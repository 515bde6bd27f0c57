// Client certificates issued per session by Vault's PKI (vault.pki), end to end: the holder
// makes the key pair, the fake Vault signs the CSR with a real CA, and the real kubectl (or
// openssl, for a talosconfig) reads the result inside the ghost. The certificate dies with the
// session, `certs` shows it as such, and its key is nowhere but in the ghost's file.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "tests/support/leak_scan.hpp"
#include "tests/support/vault_puller.hpp"

using namespace ghostpod::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kKubeconfig = R"(apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
contexts:
- name: prod
  context: {cluster: prod, user: alice}
current-context: prod
users:
- name: alice
  user: {}
)";
const std::string kTalosconfig = "context: prod\ncontexts:\n  prod:\n    endpoints: [10.0.0.1]\n    ca: Q0E=\n";

std::string world(const std::string& marker = "MARK", const json& kube_secrets = json::object()) {
    json approle = vault_approle("rid", "sid", marker);
    json mounts = {{"secret", {{"type", "kv"}, {"version", 2}, {"secrets", {{"talos", {{"TOKEN", "t-1"}}}, {"kube", kube_secrets}}}}},
                   {"kv", {{"type", "kv"}, {"version", 1}, {"secrets", {{"shared", {{"NOTE", "n-1"}}}}}}},
                   {"pki-k8s", {{"type", "pki"}, {"roles", {{"operator", {{"allowed_common_names", {"alice"}},
                                                                         {"organization", {"system:masters"}}, {"max_ttl", "24h"}}}}}}},
                   {"pki-talos", {{"type", "pki"}, {"roles", {{"os-admin", {{"allowed_common_names", {"alice"}},
                                                                          {"organization", {"os:admin"}}, {"key_type", "ed25519"}}}}}}}};
    return json{{"approles", json::array({approle})}, {"mounts", mounts}}.dump();
}

const json kKubePki = {{"mount", "pki-k8s"}, {"role", "operator"}, {"common_name", "alice"}, {"for", "kube/config"}, {"user", "alice"}};

json kube_section(const json& pki = kKubePki) {
    return {{"kv", {"secret/talos", "kv/shared"}}, {"pki", json::array({pki})}};
}

RunResult openssl(const std::vector<std::string>& args, const std::string& input) {
    std::vector<std::string> argv = {"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions o;
    o.stdin_data = input;
    return run(argv, o);
}

std::string field(const std::string& text, const std::string& name) {
    std::smatch m;
    if (!std::regex_search(text, m, std::regex(name + ": ([A-Za-z0-9+/=]+)"))) return {};
    return m[1];
}

std::string unbase64(const std::string& b64) {
    std::string out(b64.size(), '\0');
    std::size_t n = 0;
    REQUIRE(sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), b64.data(), b64.size(), nullptr, &n,
                              nullptr, sodium_base64_VARIANT_ORIGINAL) == 0);
    out.resize(n);
    return out;
}

struct CertPuller : VaultPuller {
    CertPuller(const FakeVault& server, const json& section) : VaultPuller(&server, "rid", "sid", section) {
        auto stored = gp({"secret", "set", "kube/config"}, {}, kKubeconfig);
        REQUIRE(stored.exit_code == 0);
        REQUIRE(gp({"secret", "set", "talos/config"}, {}, kTalosconfig).exit_code == 0);
    }
};

}  // namespace

TEST_CASE("kubectl in the ghost reads a kubeconfig whose client certificate the PKI CA issued for the session's lifetime",
          "[vault][pki]") {
    FakeVault server(world());
    CertPuller p(server, kube_section());
    auto r = p.pull({"--ttl", "2h"}, "kubectl config view --raw; ls -R \"$GHOSTPOD_DIR\"");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // The KV keys of both paths are in the ghost.
    CHECK(contains(r.out, "/vault/secret/talos:\nTOKEN\n"));
    CHECK(contains(r.out, "/vault/kv/shared:\nNOTE\n"));
    // The rest of the stored kubeconfig is as it was.
    CHECK(contains(r.out, "server: https://10.0.0.1:6443"));
    CHECK(contains(r.out, "current-context: prod"));
    std::string cert = unbase64(field(r.out, "client-certificate-data"));
    std::string key = unbase64(field(r.out, "client-key-data"));
    REQUIRE(cert.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
    REQUIRE(key.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);

    auto verified = openssl({"verify", "-CAfile", server.pki_ca_path("pki-k8s")}, cert);
    INFO(verified.out << verified.err);
    CHECK(verified.exit_code == 0);
    CHECK(contains(verified.out, ": OK"));
    auto names = openssl({"x509", "-noout", "-subject", "-issuer", "-nameopt", "RFC2253"}, cert);
    CHECK(contains(names.out, "subject=O=system:masters,CN=alice"));
    CHECK(contains(names.out, "issuer=CN=ghostpod fake pki-k8s CA"));
    // It ends with the session (2 h from now), not a year later.
    CHECK(openssl({"x509", "-noout", "-checkend", std::to_string(2 * 3600 - 300)}, cert).exit_code == 0);
    CHECK(openssl({"x509", "-noout", "-checkend", std::to_string(2 * 3600 + 60)}, cert).exit_code == 1);
    // The key in the file is the certificate's: made by the holder, never sent.
    auto from_key = openssl({"pkey", "-pubout"}, key);
    auto from_cert = openssl({"x509", "-noout", "-pubkey"}, cert);
    REQUIRE(from_key.exit_code == 0);
    CHECK(from_key.out == from_cert.out);
    auto signs = vault_log_entries(server.log(), "pki");
    REQUIRE(signs.size() == 1);
    CHECK(signs[0]["pki"]["role"] == "operator");
    CHECK(signs[0]["pki"]["requested_ttl"].get<int>() > 2 * 3600 - 120);
    CHECK(signs[0]["pki"]["requested_ttl"].get<int>() <= 2 * 3600);
}

TEST_CASE("a talosconfig context gets an ed25519 client certificate from its PKI role", "[vault][pki]") {
    FakeVault server(world());
    json pki = {{"mount", "pki-talos"}, {"role", "os-admin"}, {"common_name", "alice"}, {"for", "talos/config"},
                {"context", "prod"}, {"key_type", "ed25519"}};
    CertPuller p(server, {{"kv", {"secret/talos"}}, {"pki", json::array({pki})}});
    auto r = p.pull({}, "cat ~/.talos/config");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.out, "endpoints: [10.0.0.1]"));
    CHECK(contains(r.out, "ca: Q0E="));
    std::string cert = unbase64(field(r.out, "crt"));
    std::string key = unbase64(field(r.out, "key"));
    auto text = openssl({"x509", "-noout", "-text"}, cert);
    CHECK(contains(text.out, "Public Key Algorithm: ED25519"));
    CHECK(openssl({"verify", "-CAfile", server.pki_ca_path("pki-talos")}, cert).exit_code == 0);
    CHECK(openssl({"x509", "-noout", "-subject", "-nameopt", "RFC2253"}, cert).out == "subject=O=os:admin,CN=alice\n");
    CHECK(openssl({"pkey", "-pubout"}, key).out == openssl({"x509", "-noout", "-pubkey"}, cert).out);
}

TEST_CASE("certs shows the per-session certificate as such and does not fail on its short life", "[vault][pki]") {
    FakeVault server(world());
    CertPuller p(server, kube_section());
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    auto table = p.gp({"certs"});
    INFO(table.out << table.err);
    CHECK(table.exit_code == 0);
    CHECK(contains(table.out, "session "));
    CHECK(contains(table.out, "ghost:kube/config users[alice].client-certificate-data"));
    CHECK(contains(table.err, "1 certificate(s) were issued for this session (vault.pki) and expire with it"));
    auto listed = json::parse(p.gp({"certs", "--json"}).out);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["status"] == "session");
    CHECK(listed[0]["per_session"] == true);
    auto status = p.gp({"status"});
    CHECK(contains(status.out, "client cert: kube/config (alice), O=system:masters,CN=alice"));
}

TEST_CASE("a signing failure names the mount and role, exits 4 and starts no session", "[vault][pki]") {
    FakeVault server(world());
    json pki = kKubePki;
    pki["common_name"] = "mallory";
    CertPuller p(server, kube_section(pki));
    auto r = p.pull({}, "kubectl config view --raw");
    INFO(r.err);
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "(vault.pki[0]: mount pki-k8s, role operator)"));
    CHECK(contains(r.err, "400 common name mallory not allowed by this role"));
    CHECK(r.out.empty());
    CHECK(contains(p.gp({"status"}).out, "session:    none running"));
    auto log = vault_log_when(server, [](const json& l) { return !vault_log_entries(l, "revoke").empty(); });
    CHECK(server.tokens()["active"].empty());  // the session's token went with it
}

TEST_CASE("with the server unreachable a session wanting a certificate does not start, --offline starts it without one",
          "[vault][pki]") {
    auto server = std::make_unique<FakeVault>(world());
    CertPuller p(*server, kube_section());
    REQUIRE(p.pull({}, "true").exit_code == 0);  // fills the offline cache
    server.reset();
    auto r = p.pull({}, "true");
    INFO(r.err);
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "needs a fresh client certificate from pki-k8s/sign/operator"));
    CHECK(contains(r.err, "'ghostpod pull --offline'"));
    auto offline = p.pull({"--offline"}, "kubectl config view --raw; cat \"$GHOSTPOD_DIR/vault/secret/talos/TOKEN\"");
    INFO(offline.err);
    CHECK(offline.exit_code == 0);
    CHECK(contains(offline.err, "no client certificate was issued for this session (--offline)"));
    CHECK_FALSE(contains(offline.out, "client-certificate-data"));
    CHECK(contains(offline.out, "t-1"));
}

TEST_CASE("a refresh puts the session's certificate back into a pulled kubeconfig without asking for another", "[vault][pki]") {
    FakeVault server(world("MARK", {{"KUBECONFIG", kKubeconfig}, {"VERSION", "1"}}));
    json pki = {{"mount", "pki-k8s"}, {"role", "operator"}, {"common_name", "alice"}, {"for", "vault/secret/kube/KUBECONFIG"}};
    VaultPuller p(&server, "rid", "sid", {{"kv", {"secret/kube"}}, {"pki", json::array({pki})}});
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    std::string first = field(p.in_ghost("cat ~/.kube/config").out, "client-certificate-data");
    REQUIRE_FALSE(first.empty());
    server.set_world(world("MARK", {{"KUBECONFIG", kKubeconfig + "preferences: {}\n"}, {"VERSION", "2"}}));
    auto refreshed = p.pull({});
    INFO(refreshed.err);
    REQUIRE(refreshed.exit_code == 0);
    auto now = p.in_ghost("cat ~/.kube/config");
    CHECK(contains(now.out, "preferences: {}"));
    CHECK(field(now.out, "client-certificate-data") == first);
    CHECK(vault_log_entries(server.log(), "pki").size() == 1);
}

TEST_CASE("save never writes the session's certificate, nor new files below vault/, back to the vault", "[vault][pki]") {
    FakeVault server(world());
    CertPuller p(server, kube_section());
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    auto edited = p.in_ghost("chmod u+w ~/.kube/config && echo '# edited' >> ~/.kube/config && "
                             "echo new > \"$GHOSTPOD_DIR/vault/secret/mine\"");
    INFO(edited.err);
    REQUIRE(edited.exit_code == 0);
    auto saved = p.gp({"save", "--json"});
    INFO(saved.out << saved.err);
    REQUIRE(saved.exit_code == 0);
    auto j = json::parse(saved.out);
    CHECK(j["saved"].empty());
    std::string skipped = j["skipped"].dump();
    CHECK(contains(skipped, "it holds this session's client certificate (vault.pki)"));
    CHECK(contains(skipped, "vault/secret/mine"));
    // The new file save leaves out would be lost: a plain lock refuses (the certificate's file does not count).
    auto lock = p.gp({"lock", "--json"});
    CHECK(lock.exit_code == 7);
    CHECK(contains(lock.out, "vault/secret/mine"));
    CHECK_FALSE(contains(lock.out, "kube/config"));
    REQUIRE(p.gp({"lock", "--discard"}).exit_code == 0);
    CHECK(p.gp({"secret", "get", "kube/config"}).out == kKubeconfig);
}

TEST_CASE("the session's private key is nowhere but in its ghost file: not on disk, in argv, environ or output",
          "[vault][pki]") {
    FakeVault server(world());
    CertPuller p(server, kube_section());
    REQUIRE(p.pull({"--no-shell"}).exit_code == 0);
    auto shown = p.in_ghost("kubectl config view --raw");
    REQUIRE(shown.exit_code == 0);
    std::string key_b64 = field(shown.out, "client-key-data");
    std::string key = unbase64(key_b64);
    auto lines_start = key.find('\n') + 1;
    std::string key_line = key.substr(lines_start, key.find('\n', lines_start) - lines_start);  // the DER in base64
    REQUIRE(key_line.size() >= 40);
    std::vector<std::string> needles = {key_b64.substr(0, 60), key_line};
    CHECK(processes_holding(needles).empty());
    REQUIRE(p.gp({"lock"}).exit_code == 0);
    for (const char* root : {"/tmp", "/var/tmp", "/dev/shm"}) {
        INFO(root);
        CHECK(files_containing(root, needles).empty());
    }
    CHECK(files_containing(p.v.dir.path(), needles).empty());
    for (const auto& r : p.history) {
        if (&r == &p.history[p.history.size() - 2]) continue;  // the view above, which printed it on purpose
        for (const auto& n : needles) CHECK_FALSE(contains(r.out + r.err, n));
    }
}
