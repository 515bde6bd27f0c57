// ghostpod certs against real vaults holding a talosconfig, a kubeconfig and a PEM file, with
// certificates made by the openssl binary at test time: expired, 5, 60 and 400 days.
// The certificates and keys sit in the scratch directory as test material; they reach the
// vault through stdin only.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <unistd.h>

#include <cstdint>
#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;

namespace {

struct KeyPair {
    std::string cert_pem, key_pem;
};

void openssl(const std::vector<std::string>& args, const std::string& cwd) {
    std::vector<std::string> argv = {"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions o;
    o.cwd = cwd;
    o.close_stdin = true;
    auto r = run(argv, o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

const std::vector<std::string> kNewEcKey = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"};

KeyPair self_signed(const TempDir& dir, const std::string& name, int days) {
    std::vector<std::string> args = {"req", "-x509"};
    args.insert(args.end(), kNewEcKey.begin(), kNewEcKey.end());
    args.insert(args.end(), {"-days", std::to_string(days), "-subj", "/CN=" + name, "-keyout", name + ".key", "-out", name + ".crt"});
    openssl(args, dir.path());
    return {read_text(dir / (name + ".crt")), read_text(dir / (name + ".key"))};
}

// OpenSSL 3.0's req and x509 cannot backdate; its ca command signs with explicit dates.
KeyPair expired_self_signed(const TempDir& dir, const std::string& name) {
    write_text(dir / "ca.cnf",
               "[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n"
               "default_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\n");
    write_text(dir / "index.txt", "");
    std::vector<std::string> request = {"req", "-new"};
    request.insert(request.end(), kNewEcKey.begin(), kNewEcKey.end());
    request.insert(request.end(), {"-subj", "/CN=" + name, "-keyout", name + ".key", "-out", name + ".csr"});
    openssl(request, dir.path());
    openssl({"ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", name + ".key", "-in", name + ".csr", "-out",
             name + ".crt", "-startdate", "20240101000000Z", "-enddate", "20240201000000Z", "-create_serial", "-notext"},
            dir.path());
    return {read_text(dir / (name + ".crt")), read_text(dir / (name + ".key"))};
}

std::string base64(const std::string& text) {
    std::string out(sodium_base64_ENCODED_LEN(text.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

std::string talosconfig(const KeyPair& ca, const KeyPair& client) {
    return "context: prod\ncontexts:\n  prod:\n    endpoints: [10.0.0.1, 10.0.0.2]\n    ca: " + base64(ca.cert_pem) +
           "\n    crt: " + base64(client.cert_pem) + "\n    key: " + base64(client.key_pem) + "\n";
}

std::string kubeconfig(const KeyPair& ca, const KeyPair& user) {
    return "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://10.0.0.1:6443\n"
           "    certificate-authority-data: " + base64(ca.cert_pem) + "\nusers:\n- name: admin\n  user:\n"
           "    client-certificate-data: " + base64(user.cert_pem) + "\n    client-key-data: " + base64(user.key_pem) +
           "\ncontexts:\n- name: admin@prod\n  context:\n    cluster: prod\n    user: admin\ncurrent-context: admin@prod\n";
}

// A vault with five certificates: the kubeconfig's user (expired), the talosconfig's client
// (5 days), a web server's PEM (60 days) and one CA (400 days) in both configs.
struct CertVault {
    TempDir material;
    KeyPair ca = self_signed(material, "fleet-ca", 400);
    KeyPair talos_admin = self_signed(material, "talos-admin", 5);
    KeyPair web = self_signed(material, "web", 60);
    KeyPair kube_old = expired_self_signed(material, "kube-old");
    std::time_t made_at = std::time(nullptr);
    VaultFixture fx;

    CertVault() {
        REQUIRE(fx.set("talos/config", talosconfig(ca, talos_admin)).exit_code == 0);
        REQUIRE(fx.set("kube/config", kubeconfig(ca, kube_old)).exit_code == 0);
        REQUIRE(fx.set("tls/web.pem", web.cert_pem + web.key_pem).exit_code == 0);
        REQUIRE(fx.set("app.env", "DATABASE_URL=postgres://u:p@db/app\n").exit_code == 0);
        // openssl starts a validity at the second it signs; once that second is past, a 5-day
        // certificate has 4 whole days left, and the tests can say so exactly.
        while (std::time(nullptr) <= made_at) ::usleep(50'000);
    }
    std::vector<const KeyPair*> pairs() const { return {&ca, &talos_admin, &web, &kube_old}; }
};

const std::vector<std::string> kWorstFirst = {
    "vault:kube/config users[admin].client-certificate-data", "vault:talos/config contexts.prod.crt",
    "vault:tls/web.pem PEM block 1", "vault:kube/config clusters[prod].certificate-authority-data",
    "vault:talos/config contexts.prod.ca"};

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// "expiring 4" from a table line.
std::string status_and_days(const std::string& line) {
    std::istringstream in(line);
    std::string status, days;
    in >> status >> days;
    return status + " " + days;
}

// A line from the middle of a PEM body.
std::string body_line(const std::string& pem) {
    auto first = pem.find('\n') + 1;
    return pem.substr(first, pem.find('\n', first) - first);
}

void check_no_key_material(const RunResult& r, const CertVault& v) {
    for (const std::string* stream : {&r.out, &r.err}) {
        CHECK_FALSE(contains(*stream, "PRIVATE KEY"));
        for (const KeyPair* pair : v.pairs()) {
            CHECK_FALSE(contains(*stream, base64(pair->key_pem).substr(0, 40)));
            CHECK_FALSE(contains(*stream, body_line(pair->key_pem)));
        }
    }
}

}  // namespace

TEST_CASE("certs lists every certificate worst first and exits 6 when one is inside the window", "[certs]") {
    CertVault v;
    auto r = v.fx.gp({"certs"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 6);
    auto table = lines(r.out);
    REQUIRE(table.size() == kWorstFirst.size() + 1);
    CHECK(table[0].rfind("STATUS", 0) == 0);
    for (std::size_t i = 0; i < kWorstFirst.size(); ++i) CHECK(contains(table[i + 1], kWorstFirst[i]));
    CHECK(table[1].rfind("expired ", 0) == 0);
    CHECK(contains(table[1], "2024-02-01T00:00:00Z"));
    CHECK(contains(table[1], "CN=kube-old"));
    CHECK(status_and_days(table[2]) == "expiring 4");
    CHECK(status_and_days(table[3]) == "ok 59");
    CHECK(status_and_days(table[4]) == "ok 399");
    CHECK(status_and_days(table[5]) == "ok 399");
    CHECK(contains(r.err, "ghostpod: 2 of 5 certificates have expired or expire within 30 days"));
}

TEST_CASE("the exit code follows --warn-days: 0 beyond the window, 6 inside it", "[certs]") {
    TempDir material;
    auto ca = self_signed(material, "ca", 400);
    auto client = self_signed(material, "client", 5);
    VaultFixture fx;
    REQUIRE(fx.set("talos/config", talosconfig(ca, client)).exit_code == 0);
    CHECK(fx.gp({"certs"}).exit_code == 6);  // the default window is 30 days
    CHECK(fx.gp({"certs", "--warn-days", "30"}).exit_code == 6);
    auto narrow = fx.gp({"certs", "--warn-days", "3"});
    CHECK(narrow.exit_code == 0);
    CHECK_FALSE(contains(narrow.out, "expiring"));
    CHECK(fx.gp({"certs", "--warn-days", "0"}).exit_code == 0);
    CHECK(fx.gp({"certs", "--warn-days", "6"}).exit_code == 6);  // the client has 4 or 5 whole days left
}

TEST_CASE("an expired certificate fails certs even with --warn-days 0", "[certs]") {
    TempDir material;
    auto old = expired_self_signed(material, "old");
    VaultFixture fx;
    REQUIRE(fx.set("old.pem", old.cert_pem).exit_code == 0);
    auto r = fx.gp({"certs", "--warn-days", "0"});
    CHECK(r.exit_code == 6);
    CHECK(lines(r.out).at(1).rfind("expired ", 0) == 0);
}

TEST_CASE("certs --json prints source, subject, issuer, times, days left and status", "[certs]") {
    CertVault v;
    auto r = v.fx.gp({"certs", "--json", "--warn-days", "90"});
    INFO(r.err);
    CHECK(r.exit_code == 6);
    auto list = nlohmann::json::parse(r.out);
    REQUIRE(list.is_array());
    REQUIRE(list.size() == kWorstFirst.size());
    std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
    for (std::size_t i = 0; i < list.size(); ++i) {
        INFO(list[i].dump());
        CHECK(list[i]["source"] == kWorstFirst[i]);
        CHECK(std::regex_match(list[i]["not_before"].get<std::string>(), iso));
        CHECK(std::regex_match(list[i]["not_after"].get<std::string>(), iso));
        CHECK(list[i]["days_left"].is_number_integer());
    }
    CHECK(list[0]["subject"] == "CN=kube-old");
    CHECK(list[0]["issuer"] == "CN=kube-old");
    CHECK(list[0]["not_before"] == "2024-01-01T00:00:00Z");
    CHECK(list[0]["not_after"] == "2024-02-01T00:00:00Z");
    CHECK(list[0]["days_left"].get<std::int64_t>() < -600);
    CHECK(list[0]["status"] == "expired");
    CHECK(list[1]["subject"] == "CN=talos-admin");
    CHECK(list[1]["days_left"] == 4);
    CHECK(list[1]["status"] == "expiring");
    CHECK(list[2]["days_left"] == 59);
    CHECK(list[2]["status"] == "expiring");  // inside the 90-day window
    CHECK(list[3]["subject"] == "CN=fleet-ca");
    CHECK(list[3]["status"] == "ok");
    CHECK(list[4]["status"] == "ok");
}

TEST_CASE("no key material appears in anything certs prints", "[certs]") {
    CertVault v;
    for (std::vector<std::string> args : {std::vector<std::string>{"certs"}, {"certs", "--json"}, {"certs", "--warn-days", "0"}}) {
        INFO(args.back());
        auto r = v.fx.gp(args);
        CHECK(r.exit_code == 6);
        CHECK(contains(r.out, "CN=talos-admin"));  // the scan did see the values
        check_no_key_material(r, v);
    }
}

TEST_CASE("a vault without certificates says so on stderr and exits 0", "[certs]") {
    VaultFixture fx;
    REQUIRE(fx.set("app.env", "TOKEN=abc\n").exit_code == 0);
    auto r = fx.gp({"certs"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "ghostpod: no certificates found in "));
    auto json = fx.gp({"certs", "--json"});
    CHECK(json.exit_code == 0);
    CHECK(json.out == "[]\n");
}

TEST_CASE("garbage, invalid YAML and a truncated PEM give clear warnings, not a crash", "[certs]") {
    TempDir material;
    auto good = self_signed(material, "good", 400);
    auto cut = self_signed(material, "cut", 400);
    std::string garbage;
    for (int i = 0; i < 8192; ++i) garbage += static_cast<char>((i * 2654435761u) >> 24);
    std::string broken_yaml = "context: x\ncontexts:\n  x: {crt: [" + base64(cut.key_pem) + "\n";
    std::string truncated = cut.cert_pem.substr(0, cut.cert_pem.size() / 2);
    VaultFixture fx;
    REQUIRE(fx.set("garbage.bin", garbage).exit_code == 0);
    REQUIRE(fx.set("broken/talosconfig", broken_yaml).exit_code == 0);
    REQUIRE(fx.set("cut.pem", truncated + cut.key_pem).exit_code == 0);
    REQUIRE(fx.set("good.pem", good.cert_pem).exit_code == 0);
    auto r = fx.gp({"certs"});
    INFO(r.err);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "vault:good.pem PEM block 1"));
    CHECK(contains(r.err, "ghostpod: warning: vault:broken/talosconfig: not valid YAML (line "));
    CHECK(contains(r.err, "ghostpod: warning: vault:cut.pem PEM block 1: truncated certificate (no END line)"));
    CHECK_FALSE(contains(r.err, "garbage.bin"));
    CHECK_FALSE(contains(r.err, base64(cut.key_pem).substr(0, 40)));
    CHECK_FALSE(contains(r.err, body_line(truncated)));
    CHECK_FALSE(contains(r.err + r.out, "PRIVATE KEY"));
}

TEST_CASE("certs reads the offline pull cache's values as cache:KEY and skips identities", "[certs]") {
    TempDir material;
    auto pulled = self_signed(material, "pulled", 5);
    auto identity = self_signed(material, "not-scanned", 5);
    // The cache format of pod/infisical/pull_cache.hpp: magic, version, time, four u16 strings, then the secrets.
    auto u16 = [](std::size_t n) { return std::string{static_cast<char>(n & 0xff), static_cast<char>(n >> 8)}; };
    auto u32 = [&](std::size_t n) { return u16(n & 0xffff) + u16(n >> 16); };
    std::string cache = "GPPC" + std::string(1, '\1') + std::string(8, '\0');
    for (std::string field : {"https://infisical.example", "project", "prod", "/"}) cache += u16(field.size()) + field;
    cache += u32(1) + u16(8) + "TLS_CERT" + u16(1) + "/" + u32(pulled.cert_pem.size()) + pulled.cert_pem;
    VaultFixture fx;
    REQUIRE(fx.gp({"secret", "set", "infisical.cache", "--kind", "token-cache"}, cache).exit_code == 0);
    REQUIRE(fx.gp({"secret", "set", "id.pem", "--kind", "identity"}, identity.cert_pem).exit_code == 0);
    auto r = fx.gp({"certs", "--json"});
    INFO(r.err);
    CHECK(r.exit_code == 6);
    CHECK(r.err.find("warning") == std::string::npos);
    auto list = nlohmann::json::parse(r.out);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["source"] == "cache:TLS_CERT PEM block 1");
    CHECK(list[0]["subject"] == "CN=pulled");
}

TEST_CASE("certs unlocks with the recovery key from a descriptor, as a CI job does", "[certs]") {
    TempDir material;
    auto ca = self_signed(material, "ci-ca", 400);
    VaultFixture fx;
    REQUIRE(fx.set("ca.pem", ca.cert_pem).exit_code == 0);
    RunOptions o = fx.options();
    o.fd_data.erase(3);
    o.fd_data[5] = fx.recovery_key;
    auto r = run({ghostpod_binary(), "--vault", fx.vault, "--recovery-key-fd", "5", "certs", "--warn-days", "30"}, o);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "vault:ca.pem PEM block 1"));
}

TEST_CASE("certs rejects a --warn-days that is not a whole number of days", "[certs]") {
    VaultFixture fx;
    for (std::string bad : {"abc", "-1", "5x", "", "99999999999999999999"}) {
        INFO(bad);
        auto r = fx.gp({"certs", "--warn-days", bad});
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, "--warn-days must be a whole number of days"));
    }
}
