// Putting a session's client certificate into a kubeconfig user or a talosconfig context: the
// two fields are set (base64 of the PEM), everything else of the document stays as it was.
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <sodium.h>

#include "pod/formats/client_cert.hpp"
#include "vault/unique_fd.hpp"

using namespace ghostpod;

namespace {

const std::string kCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const std::string kKey = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n";

std::string b64(const std::string& text) {
    std::string out(sodium_base64_encoded_len(text.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();  // the NUL
    return out;
}

Result<SecretBuffer> put(const std::string& file, ClientCertFormat format, const std::string& name, std::string* chosen = nullptr) {
    return set_client_certificate(text_bytes(file), {format, name}, text_bytes(kCert), text_bytes(kKey), chosen);
}

YAML::Node written(const Result<SecretBuffer>& r) {
    INFO((r ? "" : r.error().describe()));
    REQUIRE(r);
    return YAML::Load(std::string(r->view()));
}

const std::string kKubeconfig = R"(apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: Q0E=
    insecure-skip-tls-verify: false
contexts:
- name: prod
  context: {cluster: prod, user: alice, namespace: "007"}
current-context: prod
preferences: {}
users:
- name: bob
  user:
    token: bob-token
- name: alice
  user:
    client-certificate: /home/alice/old.crt
    client-key: /home/alice/old.key
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: helper
      env:
      - name: LEVEL
        value: "1"
      - {name: FLAG, value: "true"}
)";

}  // namespace

TEST_CASE("a kubeconfig user gets client-certificate-data and client-key-data, and loses the file paths", "[client_cert]") {
    std::string chosen;
    YAML::Node doc = written(put(kKubeconfig, ClientCertFormat::kubeconfig, "alice", &chosen));
    CHECK(chosen == "alice");
    YAML::Node alice = doc["users"][1]["user"];
    CHECK(alice["client-certificate-data"].as<std::string>() == b64(kCert));
    CHECK(alice["client-key-data"].as<std::string>() == b64(kKey));
    CHECK_FALSE(alice["client-certificate"]);
    CHECK_FALSE(alice["client-key"]);
    CHECK(alice["exec"]["command"].as<std::string>() == "helper");
    CHECK_FALSE(doc["users"][0]["user"]["client-key-data"]);  // bob is untouched
    CHECK(doc["users"][0]["user"]["token"].as<std::string>() == "bob-token");
}

TEST_CASE("the rest of the kubeconfig keeps its keys, their order and the types of its values", "[client_cert]") {
    auto r = put(kKubeconfig, ClientCertFormat::kubeconfig, "alice");
    YAML::Node doc = written(r);
    std::vector<std::string> keys;
    for (const auto& item : doc) keys.push_back(item.first.as<std::string>());
    CHECK(keys == std::vector<std::string>{"apiVersion", "kind", "clusters", "contexts", "current-context", "preferences", "users"});
    CHECK(doc["clusters"][0]["cluster"]["server"].as<std::string>() == "https://10.0.0.1:6443");
    CHECK(doc["preferences"].IsMap());
    CHECK(doc["preferences"].size() == 0);
    // Quoted scalars stay quoted: "1", "true" and "007" are strings, not a number or a boolean.
    std::string text(r->view());
    CHECK(text.find("value: \"1\"") != std::string::npos);
    CHECK(text.find("value: \"true\"") != std::string::npos);
    CHECK(text.find("namespace: \"007\"") != std::string::npos);
    CHECK(doc["clusters"][0]["cluster"]["insecure-skip-tls-verify"].Tag() == "?");  // the boolean stays plain
    CHECK(doc["contexts"][0]["context"]["namespace"].Tag() == "!");
}

TEST_CASE("without a user named, the current context's user gets the certificate", "[client_cert]") {
    std::string chosen;
    YAML::Node doc = written(put(kKubeconfig, ClientCertFormat::kubeconfig, "", &chosen));
    CHECK(chosen == "alice");
    CHECK(doc["users"][1]["user"]["client-key-data"].as<std::string>() == b64(kKey));
}

TEST_CASE("a user with an empty or null user map is given one", "[client_cert]") {
    for (const char* user : {"user: {}", "user:", "user: null"}) {
        INFO(user);
        std::string file = std::string("users:\n- name: alice\n  ") + user + "\n";
        YAML::Node doc = written(put(file, ClientCertFormat::kubeconfig, "alice"));
        CHECK(doc["users"][0]["user"]["client-certificate-data"].as<std::string>() == b64(kCert));
    }
}

TEST_CASE("a missing user, context or current context is an error naming what is there", "[client_cert]") {
    auto missing = put(kKubeconfig, ClientCertFormat::kubeconfig, "carol");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::usage);
    CHECK(missing.error().why == "the kubeconfig has no user carol (users: bob, alice)");
    auto no_users = put("apiVersion: v1\nkind: Config\n", ClientCertFormat::kubeconfig, "alice");
    REQUIRE_FALSE(no_users);
    CHECK(no_users.error().why == "the kubeconfig has no users list");
    auto no_current = put("users: []\n", ClientCertFormat::kubeconfig, "");
    REQUIRE_FALSE(no_current);
    CHECK(no_current.error().why == "the kubeconfig has no current-context, and vault.pki names no user");
    auto no_context = put("context: prod\ncontexts:\n  dev: {endpoints: [10.0.0.2]}\n", ClientCertFormat::talosconfig, "");
    REQUIRE_FALSE(no_context);
    CHECK(no_context.error().why == "the talosconfig has no context prod (contexts: dev)");
}

TEST_CASE("a talosconfig context gets crt and key, its other contexts and fields stay", "[client_cert]") {
    std::string file = "context: prod\ncontexts:\n  prod:\n    endpoints:\n    - 10.0.0.1\n    ca: Q0E=\n    crt: T0xE\n    key: T0xE\n"
                       "  dev:\n    endpoints: [10.0.0.2]\n    crt: REVW\n";
    std::string chosen;
    YAML::Node doc = written(put(file, ClientCertFormat::talosconfig, "", &chosen));
    CHECK(chosen == "prod");
    CHECK(doc["contexts"]["prod"]["crt"].as<std::string>() == b64(kCert));
    CHECK(doc["contexts"]["prod"]["key"].as<std::string>() == b64(kKey));
    CHECK(doc["contexts"]["prod"]["ca"].as<std::string>() == "Q0E=");
    CHECK(doc["contexts"]["prod"]["endpoints"][0].as<std::string>() == "10.0.0.1");
    CHECK(doc["contexts"]["dev"]["crt"].as<std::string>() == "REVW");
    CHECK(doc["contexts"]["dev"]["endpoints"].Style() == YAML::EmitterStyle::Flow);
    CHECK(doc["context"].as<std::string>() == "prod");
}

TEST_CASE("what is not one YAML document holding a map is refused without quoting it", "[client_cert]") {
    // ",:}" and "\"\",:}" made yaml-cpp's LoadAll loop for ever (found by fuzz_hcvault).
    for (const std::string& file : {std::string("- a\n- b\n"), std::string("a: [unclosed\n"), std::string("a: 1\n---\nb: 2\n"),
                                    std::string(",:}"), std::string("\"\",:}"), std::string("a: 1\n...\n"),
                                    std::string("SECRET-VALUE"), std::string("a: b\0c: d\n", 10)}) {
        auto r = put(file, ClientCertFormat::kubeconfig, "alice");
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::usage);
        CHECK(r.error().describe().find("SECRET") == std::string::npos);
    }
}

TEST_CASE("a kubeconfig with comments, a directive and a leading --- is one document", "[client_cert]") {
    std::string file = "# managed by hand\n%YAML 1.2\n---\n" + std::string(R"(apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: k, user: alice}
users:
- name: alice
  user: {}
)");
    auto r = put(file, ClientCertFormat::kubeconfig, "alice");
    INFO((r ? std::string() : r.error().describe()));
    CHECK(r);
}
