// The Vault / OpenBao side's pure parts: its answers (tokens, the mount preflight, KV v1 and v2,
// PKI signatures, the errors list), the config section and settings, the offline cache, and the
// per-session key pair with its certificate request.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "pod/hcvault/answers.hpp"
#include "pod/hcvault/client.hpp"
#include "pod/hcvault/keypair.hpp"
#include "pod/hcvault/pull_cache.hpp"
#include "pod/hcvault/settings.hpp"
#include "pod/infisical/pull_settings.hpp"
#include "pod/unlock/config.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "vault/unique_fd.hpp"

using namespace ghostpod;
using namespace ghostpod::test;
using json = nlohmann::json;

namespace {

std::string value_of(const KvPulled& p, const std::string& ghost_name) {
    for (const auto& s : p.secrets)
        if (s.ghost_name() == ghost_name) {
            auto v = p.value(s);
            return std::string(v.begin(), v.end());
        }
    FAIL("no key " << ghost_name);
    return {};
}

std::string text_of(const SecretBuffer& b) { return std::string(b.view()); }

Config config_of(const json& vault) {
    auto c = parse_config(json{{"version", 1}, {"vault", vault}}.dump(), "/p/.ghostpod/config.json");
    INFO((c ? "" : c.error().describe()));
    REQUIRE(c);
    return *c;
}

Error config_error(const json& vault) {
    auto c = parse_config(json{{"version", 1}, {"vault", vault}}.dump(), "/p/.ghostpod/config.json");
    REQUIRE_FALSE(c);
    return c.error();
}

// Sets (or with nullptr unsets) variables for one scope.
struct EnvScope {
    std::vector<std::pair<std::string, std::optional<std::string>>> saved;
    EnvScope(std::initializer_list<std::pair<const char*, const char*>> vars) {
        for (auto [name, value] : vars) {
            const char* old = std::getenv(name);
            saved.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
            if (value) ::setenv(name, value, 1);
            else ::unsetenv(name);
        }
    }
    ~EnvScope() {
        for (auto& [name, value] : saved) {
            if (value) ::setenv(name.c_str(), value->c_str(), 1);
            else ::unsetenv(name.c_str());
        }
    }
};

EnvScope no_vault_env() {
    return {{"VAULT_ADDR", nullptr}, {"VAULT_NAMESPACE", nullptr}, {"VAULT_CACERT", nullptr}, {"VAULT_CAPATH", nullptr},
            {"VAULT_SKIP_VERIFY", nullptr}};
}

}  // namespace

// ---- answers -------------------------------------------------------------------------------

TEST_CASE("an AppRole login answer gives the client token, its lease and whether it renews", "[hcvault]") {
    auto t = read_auth_answer(R"({"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,"data":null,
        "auth":{"client_token":"hvs.TOKEN","accessor":"a","policies":["default","ops"],"lease_duration":3600,
                "renewable":true,"token_type":"service","orphan":true}})",
                              "log in");
    REQUIRE(t);
    CHECK(text_of(t->token) == "hvs.TOKEN");
    CHECK(t->lease_seconds == 3600);
    CHECK(t->renewable);
    CHECK(t->obtained_at > 0);
}

TEST_CASE("an answer without auth.client_token is refused as not Vault's API", "[hcvault]") {
    for (const char* body : {R"({"auth":null})", R"({"auth":{"client_token":""}})", R"({"data":{}})", "[1]", "<html>"}) {
        INFO(body);
        auto t = read_auth_answer(body, "log in to x");
        REQUIRE_FALSE(t);
        CHECK(t.error().code == ErrorCode::network);
        CHECK(t.error().what == "log in to x");
    }
}

TEST_CASE("the errors list is shown with the status, multi-line errors on one line, never the rest of the body",
          "[hcvault]") {
    CHECK(describe_vault_error(403, R"({"errors":["permission denied"]})", 1) == "403 permission denied");
    CHECK(describe_vault_error(400, R"({"errors":["invalid role or secret ID","second"],"data":{"X":"SECRET"}})", 1) ==
          "400 invalid role or secret ID; second");
    CHECK(describe_vault_error(500, R"({"errors":["1 error occurred:\n\t* internal error\n\n"]})", 3) ==
          "500 1 error occurred:  * internal error after 3 attempts");
    CHECK(describe_vault_error(404, R"({"errors":[]})", 1) == "404");
    CHECK(describe_vault_error(502, "<html>bad gateway</html>", 1) == "502 <html>bad gateway</html>");
    std::string many = R"({"errors":["e1","e2","e3","e4","e5","e6","e7"]})";
    CHECK(describe_vault_error(400, many, 1) == "400 e1; e2; e3; e4; e5; and 2 more");
}

TEST_CASE("the mount preflight gives the mount path and KV version, other engines are refused", "[hcvault]") {
    auto v2 = read_mount_answer(R"({"data":{"type":"kv","path":"secret/","options":{"version":"2"}}})", "s");
    REQUIRE(v2);
    CHECK(v2->mount == "secret");
    CHECK(v2->version == 2);
    auto v1 = read_mount_answer(R"({"data":{"type":"kv","path":"team/kv/","options":null}})", "s");
    REQUIRE(v1);
    CHECK(v1->mount == "team/kv");
    CHECK(v1->version == 1);
    auto pki = read_mount_answer(R"({"data":{"type":"pki","path":"pki/","options":null}})", "s");
    REQUIRE_FALSE(pki);
    CHECK(pki.error().why == "it is a pki engine, not KV");
}

TEST_CASE("a mount path is found in the KV path, also when it names the namespace too", "[hcvault]") {
    std::string mount = "secret";
    CHECK(path_below_mount("secret/talos/prod", mount) == std::optional<std::string>("talos/prod"));
    mount = "team/a/secret";
    CHECK(path_below_mount("secret/talos", mount) == std::optional<std::string>("talos"));
    CHECK(mount == "secret");
    mount = "other";
    CHECK_FALSE(path_below_mount("secret/talos", mount));
    mount = "secret";
    CHECK_FALSE(path_below_mount("secret", mount));  // a mount is no secret
    mount = "sec";
    CHECK_FALSE(path_below_mount("secret/x", mount));  // a prefix of a segment is not the mount
}

TEST_CASE("KV v2 and v1 answers give every key, non-strings become their JSON text", "[hcvault]") {
    KvPulled p;
    REQUIRE(read_kv_answer(R"({"data":{"data":{"STR":"v-1\nline 2","NUM":42,"BOOL":true,"NULL":null,"OBJ":{"a":[1,2]},
        "bad/key":"x","..":"y"},"metadata":{"version":3}}})",
                           2, "secret", "talos", p, "read"));
    REQUIRE(read_kv_answer(R"({"data":{"TOKEN":"v-kv1"},"lease_duration":2764800})", 1, "kv", "shared", p, "read"));
    CHECK(p.secrets.size() == 6);
    CHECK(value_of(p, "vault/secret/talos/STR") == "v-1\nline 2");
    CHECK(value_of(p, "vault/secret/talos/NUM") == "42");
    CHECK(value_of(p, "vault/secret/talos/BOOL") == "true");
    CHECK(value_of(p, "vault/secret/talos/NULL") == "null");
    CHECK(value_of(p, "vault/secret/talos/OBJ") == R"({"a":[1,2]})");
    CHECK(value_of(p, "vault/kv/shared/TOKEN") == "v-kv1");
    CHECK(p.skipped == std::vector<std::string>{"secret/talos/..", "secret/talos/bad/key"});
}

TEST_CASE("a KV answer of the wrong shape is refused naming what is missing", "[hcvault]") {
    KvPulled p;
    auto v2 = read_kv_answer(R"({"data":{"KEY":"v"}})", 2, "secret", "x", p, "read secret/x");
    REQUIRE_FALSE(v2);
    CHECK(v2.error().why == "the answer has no data.data object");
    auto v1 = read_kv_answer(R"({"data":"text"})", 1, "kv", "x", p, "read kv/x");
    REQUIRE_FALSE(v1);
    CHECK(v1.error().why == "the answer has no data object");
}

TEST_CASE("a 404 of a deleted latest version is told from a missing secret", "[hcvault]") {
    CHECK(deleted_version(R"({"data":{"data":null,"metadata":{"version":2,"deletion_time":"2026-01-01T00:00:00Z"}}})") == 2);
    CHECK(deleted_version(R"({"errors":[]})") == 0);
    CHECK(deleted_version("not json") == 0);
}

TEST_CASE("a PKI sign answer gives the certificate, the chain, the expiry and the server's warnings", "[hcvault]") {
    auto c = read_sign_answer(R"({"data":{"certificate":"-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----",
        "issuing_ca":"ISSUER","ca_chain":["CA1","CA2"],"serial_number":"39:dd","expiration":1767225600},
        "warnings":["TTL capped"]})",
                              "sign");
    REQUIRE(c);
    CHECK(c->certificate.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
    CHECK(c->chain == "CA1\nCA2\n");
    CHECK(c->serial_number == "39:dd");
    CHECK(c->expiration == 1767225600);
    CHECK(c->warnings == std::vector<std::string>{"TTL capped"});
    auto bad = read_sign_answer(R"({"data":{"certificate":"nope"}})", "sign");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().why == "the answer has no PEM data.certificate");
}

// ---- config and settings -------------------------------------------------------------------

TEST_CASE("the config's vault section is read with its KV paths, mappings and PKI certificates", "[hcvault][config]") {
    Config c = config_of({{"address", "https://vault.example.com:8200"},
                          {"cacert", "ca.pem"},
                          {"namespace", "team/a"},
                          {"auth", {{"method", "approle"}, {"mount", "approle-ci/"}}},
                          {"kv", {"secret/talos", "/secret/kube/"}},
                          {"secrets", {{"KUBECONFIG", json::object()}, {"secret/talos/TOKEN", {{"env", "TALOS_TOKEN"}, {"env_value", true}}}}},
                          {"pki", {{{"mount", "pki-k8s"}, {"role", "operator"}, {"common_name", "alice"}, {"for", "kube/config"}, {"user", "alice"}},
                                   {{"mount", "pki-talos"}, {"role", "os-admin"}, {"common_name", "alice"}, {"for", "talos/config"},
                                    {"context", "prod"}, {"key_type", "ed25519"}}}},
                          {"retry_for", "5s"}});
    const VaultConfig& v = c.vault;
    CHECK(v.present);
    CHECK(v.address == "https://vault.example.com:8200");
    CHECK(v.name_space == "team/a");
    CHECK(v.auth_mount == "approle-ci");
    CHECK(v.kv == std::vector<std::string>{"secret/talos", "secret/kube"});
    CHECK(v.secrets.at("secret/talos/TOKEN").env_value);
    REQUIRE(v.pki.size() == 2);
    CHECK(v.pki[0].format == ClientCertFormat::kubeconfig);
    CHECK(v.pki[0].user == "alice");
    CHECK(v.pki[0].key_type == "ec");
    CHECK(v.pki[1].format == ClientCertFormat::talosconfig);
    CHECK(v.pki[1].context == "prod");
    CHECK(v.pki[1].key_type == "ed25519");
    CHECK(v.retry_seconds == 5);
}

TEST_CASE("a malformed vault section is refused naming the key", "[hcvault][config]") {
    auto why = [](const json& vault) { return config_error(vault).why; };
    CHECK(why({{"kv", {"secret"}}}).rfind("\"vault.kv\": \"secret\" is not MOUNT/PATH", 0) == 0);
    CHECK(why({{"kv", {"secret/../etc"}}}).rfind("\"vault.kv\":", 0) == 0);
    CHECK(why({{"kv", {"secret/a"}}, {"auth", {{"method", "kubernetes"}}}}) == "\"vault.auth.method\": only \"approle\" is supported");
    CHECK(why({{"kv", {"secret/a"}}, {"adress", "x"}}) == "\"vault.adress\": unknown key");
    CHECK(why(json::object()) == "\"vault\": names neither \"kv\" paths nor \"pki\" certificates");
    CHECK(why({{"pki", json::array({{{"mount", "pki"}, {"role", "r"}, {"for", "kube/config"}}})}}) == "\"vault.pki[0].common_name\": missing");
    CHECK(why({{"pki", json::array({{{"mount", "pki"}, {"role", "r"}, {"common_name", "a"}, {"for", "kube/config"}, {"key_type", "rsa"}}})}}) ==
          "\"vault.pki[0].key_type\": expected \"ec\" (P-256) or \"ed25519\"");
    CHECK(why({{"pki", json::array({{{"mount", "pki"}, {"role", "r"}, {"common_name", "a"}, {"for", "creds"}}})}}) ==
          "\"vault.pki[0].format\": say whether \"for\" is a \"kubeconfig\" or a \"talosconfig\"");
    CHECK(why({{"pki", json::array({{{"mount", "pki"}, {"role", "r"}, {"common_name", "a"}, {"for", "kube/config"}, {"format", "kubeconfig"}, {"context", "c"}}})}}) ==
          "\"vault.pki[0].context\": a kubeconfig takes \"user\"");
    CHECK(why({{"kv", {"secret/a"}}, {"secrets", {{"K", {{"env", "GHOSTPOD_DIR"}}}}}}).rfind("\"vault.secrets.K.env\"", 0) == 0);
}

TEST_CASE("VAULT_ADDR, VAULT_NAMESPACE and VAULT_CACERT beat the config, as Vault Agent reads them", "[hcvault][config]") {
    TempDir dir;
    write_text(dir / "env-ca.pem", "x");
    write_text(dir / "config-ca.pem", "x");
    Config c = config_of({{"address", "vault.example.com:8200/"}, {"namespace", "/team/a/"}, {"cacert", "config-ca.pem"},
                          {"kv", {"secret/a"}}});
    std::vector<std::string> notes;
    {
        auto clean = no_vault_env();
        auto s = resolve_vault_settings(c, dir / "config.json", notes);
        REQUIRE(s);
        REQUIRE(s->has_value());
        CHECK((*s)->target.address == "https://vault.example.com:8200");
        CHECK((*s)->name_space == "team/a");
        CHECK((*s)->http.cacert == std::string(std::filesystem::canonical(dir / "config-ca.pem")));
        CHECK((*s)->http.extra_headers == std::vector<std::string>{"X-Vault-Request: true", "X-Vault-Namespace: team/a"});
    }
    {
        EnvScope env{{"VAULT_ADDR", "http://127.0.0.1:8201"}, {"VAULT_NAMESPACE", "ops"},
                     {"VAULT_CACERT", (dir / "env-ca.pem").c_str()}, {"VAULT_CAPATH", nullptr}, {"VAULT_SKIP_VERIFY", nullptr}};
        auto s = resolve_vault_settings(c, dir / "config.json", notes);
        REQUIRE(s);
        CHECK((*s)->target.address == "http://127.0.0.1:8201");
        CHECK((*s)->name_space == "ops");
        CHECK((*s)->http.cacert == std::string(std::filesystem::canonical(dir / "env-ca.pem")));
    }
    {
        auto clean = no_vault_env();
        Config bare = config_of({{"kv", {"secret/a"}}});
        auto s = resolve_vault_settings(bare, dir / "config.json", notes);
        REQUIRE(s);
        CHECK((*s)->target.address == "https://127.0.0.1:8200");  // the vault CLI's default
        CHECK((*s)->http.extra_headers == std::vector<std::string>{"X-Vault-Request: true"});
    }
    CHECK(notes.empty());
}

TEST_CASE("VAULT_SKIP_VERIFY is never honoured and says so", "[hcvault][config]") {
    auto clean = no_vault_env();
    EnvScope skip{{"VAULT_SKIP_VERIFY", "1"}};
    std::vector<std::string> notes;
    auto s = resolve_vault_settings(config_of({{"kv", {"secret/a"}}}), "/p/config.json", notes);
    REQUIRE(s);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0] == "VAULT_SKIP_VERIFY is ignored: the Vault server's TLS certificate is always verified");
}

TEST_CASE("a project with only a vault section pulls from Vault alone, the settings survive the trip to the holder",
          "[hcvault][config]") {
    auto clean = no_vault_env();
    EnvScope no_infisical{{"INFISICAL_PROJECT_ID", nullptr}, {"INFISICAL_DOMAIN", nullptr}, {"INFISICAL_API_URL", nullptr}};
    TempDir cwd;  // no .infisical.json above it
    Config c = config_of({{"kv", {"secret/a", "kv/b"}},
                          {"secrets", {{"K", {{"path", "~/k"}}}}},
                          {"pki", json::array({{{"mount", "pki"}, {"role", "r"}, {"common_name", "a"}, {"for", "talos/config"}}})}});
    auto s = resolve_pull_settings(c, "/p/config.json", {});
    REQUIRE(s);
    CHECK_FALSE(s->infisical);
    REQUIRE(s->vault);
    auto back = parse_pull_settings(pull_settings_json(*s));
    REQUIRE(back);
    CHECK_FALSE(back->infisical);
    REQUIRE(back->vault);
    CHECK(same_vault_source(*back->vault, *s->vault));
    CHECK(back->vault->mappings.at("K").path == "~/k");
    CHECK(back->vault->pki[0].format == ClientCertFormat::talosconfig);
    CHECK(back->vault->http.extra_headers == s->vault->http.extra_headers);
    back->vault->kv.push_back("secret/c");
    CHECK_FALSE(same_vault_source(*back->vault, *s->vault));
}

TEST_CASE("a pulled key maps by MOUNT/PATH/KEY, then by KEY, then to a built-in place, {} turns one off", "[hcvault]") {
    VaultPullSettings s;
    s.mappings["secret/a/K"] = {"~/exact", "", false};
    s.mappings["K"] = {"~/any", "", false};
    s.mappings["KUBECONFIG"] = {};
    CHECK(vault_mapping_for(s, {"secret", "a", "K"})->path == "~/exact");
    CHECK(vault_mapping_for(s, {"secret", "b", "K"})->path == "~/any");
    CHECK_FALSE(vault_mapping_for(s, {"secret", "b", "KUBECONFIG"}));
    CHECK(vault_mapping_for(s, {"secret", "b", "TALOSCONFIG"})->path == "~/.talos/config");
    CHECK(vault_mapping_for(s, {"secret", "b", "TALOSCONFIG"})->env == "TALOSCONFIG");
    CHECK_FALSE(vault_mapping_for(s, {"secret", "b", "OTHER"}));
}

// ---- the offline cache ---------------------------------------------------------------------

TEST_CASE("the Vault offline cache round-trips and a damaged one is refused", "[hcvault]") {
    VaultPullSettings s;
    s.target.address = "https://v:8200";
    s.name_space = "team";
    s.kv = {"secret/a", "kv/b"};
    KvPulled p;
    REQUIRE(read_kv_answer(R"({"data":{"data":{"A":"one\u0000two","B":"x"}}})", 2, "secret", "a", p, "r"));
    auto encoded = encode_vault_cache(s, p, 1767225600);
    REQUIRE(encoded);
    auto decoded = decode_vault_cache(encoded->bytes());
    REQUIRE(decoded);
    CHECK(decoded->fetched_at == 1767225600);
    CHECK(vault_cache_matches(*decoded, s));
    CHECK(value_of(decoded->pulled, "vault/secret/a/A") == std::string("one\0two", 7));
    s.name_space = "other";
    CHECK_FALSE(vault_cache_matches(*decoded, s));
    for (std::size_t cut : {std::size_t{3}, encoded->size() / 2, encoded->size() - 1}) {
        INFO("cut at " << cut);
        CHECK_FALSE(decode_vault_cache(encoded->bytes().first(cut)));
    }
}

// ---- the key pair --------------------------------------------------------------------------

TEST_CASE("the session key pair's request verifies with openssl and names the common name", "[hcvault]") {
    for (const char* type : {"ec", "ed25519"}) {
        INFO(type);
        auto pair = make_client_key_pair(type, "alice");
        REQUIRE(pair);
        CHECK(text_of(pair->private_key_pem).rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
        RunOptions o;
        o.stdin_data = pair->csr_pem;
        auto r = run({"openssl", "req", "-noout", "-verify", "-subject", "-text"}, o);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("CN = alice") != std::string::npos);
        CHECK(r.out.find(std::string(type) == "ec" ? "id-ecPublicKey" : "ED25519") != std::string::npos);
        // The private key is the request's: openssl derives the same public key from it.
        RunOptions k;
        k.stdin_data = text_of(pair->private_key_pem);
        auto pub = run({"openssl", "pkey", "-pubout", "-outform", "DER"}, k);
        REQUIRE(pub.exit_code == 0);
        CHECK(std::vector<std::uint8_t>(pub.out.begin(), pub.out.end()) == pair->public_key_der);
    }
}

TEST_CASE("a certificate is checked against the session key's public half", "[hcvault]") {
    TempDir dir;
    auto pair = make_client_key_pair("ec", "alice");
    REQUIRE(pair);
    write_text(dir / "req.csr", pair->csr_pem);
    RunOptions o;
    o.cwd = dir.path();
    REQUIRE(run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
                 "-out", "ca.pem", "-days", "1", "-subj", "/CN=ca"}, o).exit_code == 0);
    REQUIRE(run({"openssl", "x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
                 "-out", "cert.pem"}, o).exit_code == 0);
    CHECK(certificate_has_key(read_text(dir / "cert.pem"), pair->public_key_der));
    CHECK_FALSE(certificate_has_key(read_text(dir / "ca.pem"), pair->public_key_der));  // another key
    CHECK_FALSE(certificate_has_key("not a certificate", pair->public_key_der));
}
