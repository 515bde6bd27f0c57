// Finding certificates in values, and the JSON between the session holder and the client.
// Certificates are made at test time by the openssl binary.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <ctime>
#include <string>

#include "pod/formats/certs.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ghostpod;
using namespace ghostpod::test;

namespace {

constexpr std::int64_t kDay = 86400;

struct KeyPair {
    std::string cert_pem, key_pem;
};

KeyPair self_signed(const TempDir& dir, const std::string& name, int days) {
    auto r = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
                  std::to_string(days), "-subj", "/CN=" + name, "-keyout", dir / (name + ".key"), "-out",
                  dir / (name + ".crt")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return {read_text(dir / (name + ".crt")), read_text(dir / (name + ".key"))};
}

std::string base64(const std::string& text) {
    std::string out(sodium_base64_ENCODED_LEN(text.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

std::span<const std::uint8_t> bytes(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
}

// The certificates in `value`, worst first; finding them must raise no problem.
std::vector<CertInfo> certs_in(const std::string& label, const std::string& value) {
    std::vector<std::string> problems;
    auto certs = find_certificates(label, bytes(value), &problems);
    INFO(joined(problems));
    CHECK(problems.empty());
    sort_worst_first(certs);
    return certs;
}

CertInfo cert_at(std::string source, std::int64_t not_after) {
    CertInfo c;
    c.source = std::move(source);
    c.subject = "CN=" + c.source;
    c.issuer = "CN=issuer";
    c.not_before = not_after - 365 * kDay;
    c.not_after = not_after;
    return c;
}

// A line from the middle of a PEM body: a piece of the value that must never be quoted.
std::string body_line(const std::string& pem) {
    auto first = pem.find('\n') + 1;
    return pem.substr(first, pem.find('\n', first) - first);
}

}  // namespace

TEST_CASE("a PEM file with a key and a certificate yields the certificate, labelled by block", "[certs]") {
    TempDir dir;
    auto pair = self_signed(dir, "unit-five", 5);
    auto certs = certs_in("vault:tls/server.pem", pair.key_pem + pair.cert_pem);
    REQUIRE(certs.size() == 1);
    CHECK(certs[0].source == "vault:tls/server.pem PEM block 2");
    CHECK(certs[0].subject == "CN=unit-five");
    CHECK(certs[0].issuer == "CN=unit-five");
    CHECK(certs[0].not_after - certs[0].not_before == 5 * kDay);
    CHECK(days_left(certs[0], certs[0].not_before) == 5);
    CHECK(days_left(certs[0], certs[0].not_before + 1) == 4);
}

TEST_CASE("a TRUSTED CERTIFICATE block is read like a plain one", "[certs]") {
    TempDir dir;
    auto pair = self_signed(dir, "trusted", 5);
    auto r = run({"openssl", "x509", "-in", dir / "trusted.crt", "-trustout", "-addtrust", "serverAuth", "-out",
                  dir / "trusted.pem"});
    REQUIRE(r.exit_code == 0);
    std::string trusted = read_text(dir / "trusted.pem");
    REQUIRE(trusted.rfind("-----BEGIN TRUSTED CERTIFICATE-----", 0) == 0);
    auto certs = certs_in("vault:ca.pem", trusted);
    REQUIRE(certs.size() == 1);
    CHECK(certs[0].subject == "CN=trusted");
}

TEST_CASE("a talosconfig yields its ca and crt by context, and its key is not read", "[certs]") {
    TempDir dir;
    auto ca = self_signed(dir, "talos-ca", 400);
    auto client = self_signed(dir, "talos-admin", 5);
    std::string talosconfig = "context: prod\ncontexts:\n  prod:\n    endpoints: [10.0.0.1]\n    ca: " + base64(ca.cert_pem) +
                              "\n    crt: " + base64(client.cert_pem) + "\n    key: " + base64(client.key_pem) + "\n";
    auto certs = certs_in("vault:talos/config", talosconfig);
    REQUIRE(certs.size() == 2);
    CHECK(certs[0].source == "vault:talos/config contexts.prod.crt");
    CHECK(certs[0].subject == "CN=talos-admin");
    CHECK(certs[1].source == "vault:talos/config contexts.prod.ca");
    CHECK(certs[1].subject == "CN=talos-ca");
}

TEST_CASE("a kubeconfig yields the cluster CA and the user certificate, labelled by name", "[certs]") {
    TempDir dir;
    auto ca = self_signed(dir, "kube-ca", 400);
    auto user = self_signed(dir, "kube-admin", 5);
    std::string kubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n"
                             "    server: https://10.0.0.1:6443\n    certificate-authority-data: " + base64(ca.cert_pem) +
                             "\nusers:\n- name: admin\n  user:\n    client-certificate-data: " + base64(user.cert_pem) +
                             "\n    client-key-data: " + base64(user.key_pem) +
                             "\ncontexts:\n- name: admin@prod\n  context: {cluster: prod, user: admin}\n"
                             "current-context: admin@prod\n";
    auto certs = certs_in("vault:kube/config", kubeconfig);
    REQUIRE(certs.size() == 2);
    CHECK(certs[0].source == "vault:kube/config users[admin].client-certificate-data");
    CHECK(certs[0].subject == "CN=kube-admin");
    CHECK(certs[1].source == "vault:kube/config clusters[prod].certificate-authority-data");
}

TEST_CASE("a CA bundle in one field yields every certificate in it, numbered", "[certs]") {
    TempDir dir;
    auto one = self_signed(dir, "bundle-one", 10);
    auto two = self_signed(dir, "bundle-two", 20);
    std::string kubeconfig = "clusters:\n- name: c\n  cluster:\n    certificate-authority-data: " +
                             base64(one.cert_pem + two.cert_pem) + "\n";
    auto certs = certs_in("vault:k", kubeconfig);
    REQUIRE(certs.size() == 2);
    CHECK(certs[0].source == "vault:k clusters[c].certificate-authority-data PEM block 1");
    CHECK(certs[1].source == "vault:k clusters[c].certificate-authority-data PEM block 2");
}

TEST_CASE("a truncated or damaged certificate block is a problem that quotes none of the value", "[certs]") {
    TempDir dir;
    auto pair = self_signed(dir, "cut", 5);
    std::string line = body_line(pair.cert_pem);
    SECTION("truncated") {
        std::vector<std::string> problems;
        auto certs = find_certificates("vault:cut.pem", bytes(pair.cert_pem.substr(0, pair.cert_pem.size() / 2)), &problems);
        CHECK(certs.empty());
        REQUIRE(problems.size() == 1);
        CHECK(problems[0] == "vault:cut.pem PEM block 1: truncated certificate (no END line)");
    }
    SECTION("damaged body") {
        std::string damaged = pair.cert_pem;
        damaged.replace(damaged.find(line), 8, "!!!!!!!!");
        std::vector<std::string> problems;
        auto certs = find_certificates("vault:bad.pem", bytes(damaged), &problems);
        CHECK(certs.empty());
        REQUIRE(problems.size() == 1);
        CHECK(problems[0] == "vault:bad.pem PEM block 1: not a valid certificate (damaged base64 or DER)");
        CHECK(problems[0].find(line.substr(8, 16)) == std::string::npos);
    }
    SECTION("a field that is not base64") {
        std::vector<std::string> problems;
        auto certs = find_certificates("vault:t", bytes("contexts:\n  x:\n    crt: '%%% not base64 %%%'\n"), &problems);
        INFO(joined(problems));
        CHECK(certs.empty());
        REQUIRE(problems.size() == 1);
        CHECK(problems[0] == "vault:t contexts.x.crt: not base64");
    }
}

TEST_CASE("a value full of broken blocks gives ten problems and a count of the rest", "[certs]") {
    std::string value;
    for (int i = 0; i < 50; ++i) value += "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    std::vector<std::string> problems;
    CHECK(find_certificates("vault:many", bytes(value), &problems).empty());
    REQUIRE(problems.size() == 11);
    CHECK(problems[9] == "vault:many PEM block 10: not a valid certificate (damaged base64 or DER)");
    CHECK(problems[10] == "vault:many: 40 more problems like these");
}

TEST_CASE("invalid YAML with certificate fields is reported with its line, never its text", "[certs]") {
    std::string broken = "context: x\ncontexts:\n  x: {crt: [unclosed-secretish-text\n";
    std::vector<std::string> problems;
    auto certs = find_certificates("vault:talos/config", bytes(broken), &problems);
    CHECK(certs.empty());
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].rfind("vault:talos/config: not valid YAML (line ", 0) == 0);
    CHECK(problems[0].find("secretish") == std::string::npos);
}

TEST_CASE("values without certificates give none and no problem", "[certs]") {
    std::string binary;
    for (int i = 0; i < 4096; ++i) binary += static_cast<char>((i * 7919) & 0xff);
    std::string der_like = "\x30\x82\x01\x00garbage";
    for (const std::string& value :
         {std::string("hunter2"), std::string(), binary, der_like, std::string("{\"users\": [1, 2]}"),
          std::string("contexts:\n  x:\n    endpoints: [a]\n"), std::string("contexts:\n  x:\n    ca: ''\n"),
          std::string("certificate-authority-data: abc\nclusters: 3\nusers: [1, {user: 2}]\n"), std::string("#!/bin/sh\nfor users in a b; do :; done\n"),
          std::string("-----BEGIN PRIVATE KEY-----\nnot!base64\n-----END PRIVATE KEY-----\n"),
          std::string("-----BEGIN EC PRIVATE KEY-----\ncut off here")}) {
        std::vector<std::string> problems;
        CHECK(find_certificates("vault:v", bytes(value), &problems).empty());
        INFO(joined(problems));
        CHECK(problems.empty());
    }
}

TEST_CASE("days_left rounds toward the past, so an expired certificate has negative days", "[certs]") {
    const std::int64_t t = 1'800'000'000;
    CHECK(days_left(cert_at("a", t + 5 * kDay), t) == 5);
    CHECK(days_left(cert_at("a", t + 5 * kDay - 1), t) == 4);
    CHECK(days_left(cert_at("a", t), t) == 0);
    CHECK(days_left(cert_at("a", t - 1), t) == -1);
    CHECK(days_left(cert_at("a", t - kDay - 1), t) == -2);
}

TEST_CASE("status is expired after notAfter, expiring inside the window, ok beyond it", "[certs]") {
    const std::int64_t t = 1'800'000'000;
    CHECK(cert_status(cert_at("a", t - 1), t, 30) == CertStatus::expired);
    CHECK(cert_status(cert_at("a", t - 1), t, 0) == CertStatus::expired);
    CHECK(cert_status(cert_at("a", t), t, 30) == CertStatus::expiring);
    CHECK(cert_status(cert_at("a", t + 30 * kDay - 1), t, 30) == CertStatus::expiring);
    CHECK(cert_status(cert_at("a", t + 30 * kDay), t, 30) == CertStatus::ok);
    CHECK(cert_status(cert_at("a", t + 5 * kDay), t, 0) == CertStatus::ok);
    CHECK(std::string(cert_status_name(CertStatus::expiring)) == "expiring");
}

TEST_CASE("sort_worst_first orders by notAfter, then by source", "[certs]") {
    std::vector<CertInfo> certs = {cert_at("b", 300), cert_at("z", 100), cert_at("a", 300), cert_at("m", 200)};
    sort_worst_first(certs);
    REQUIRE(certs.size() == 4);
    CHECK(certs[0].source == "z");
    CHECK(certs[1].source == "m");
    CHECK(certs[2].source == "a");
    CHECK(certs[3].source == "b");
}

TEST_CASE("certs_from_json reads back what certs_to_json writes", "[certs]") {
    std::vector<CertInfo> certs = {cert_at("ghost:odd \"name\"\\ with ü", 1'800'000'000), cert_at("old", -86'400),
                                   cert_at("far", 253'402'300'799)};  // 9999-12-31T23:59:59Z
    certs[0].subject = "CN=a\\,b,O=x";
    std::string json = certs_to_json(certs, 1'700'000'000, 30);
    CHECK(json.find("\"not_after\": \"9999-12-31T23:59:59Z\"") != std::string::npos);
    CHECK(json.find("\"not_after\": \"1969-12-31T00:00:00Z\"") != std::string::npos);
    CHECK(json.find("\"status\": \"expired\"") != std::string::npos);
    auto back = certs_from_json(json);
    REQUIRE(back);
    REQUIRE(back->size() == certs.size());
    for (std::size_t i = 0; i < certs.size(); ++i) {
        CHECK((*back)[i].source == certs[i].source);
        CHECK((*back)[i].subject == certs[i].subject);
        CHECK((*back)[i].issuer == certs[i].issuer);
        CHECK((*back)[i].not_before == certs[i].not_before);
        CHECK((*back)[i].not_after == certs[i].not_after);
    }
}

TEST_CASE("certs_from_json rejects malformed input without crashing", "[certs]") {
    std::string good = R"({"source":"s","subject":"CN=a","issuer":"CN=b","not_before":"2026-01-01T00:00:00Z","not_after":"2027-01-01T00:00:00Z"})";
    REQUIRE(certs_from_json("[" + good + "]"));
    std::string deep = std::string(100000, '[') + std::string(100000, ']');
    std::string nested_field = good;
    nested_field.replace(nested_field.find("\"s\""), 3, "[[[\"s\"]]]");
    std::string long_field = good;
    long_field.replace(long_field.find("\"s\""), 3, "\"" + std::string(20000, 's') + "\"");
    std::string bad_date = good;
    bad_date.replace(bad_date.find("2027-01-01"), 10, "2027-02-31");
    std::string bad_shape = good;
    bad_shape.replace(bad_shape.find("2027-01-01T"), 11, "2027-01-01 ");
    std::string missing = good;
    missing.replace(missing.find("\"issuer\":\"CN=b\","), 16, "");
    for (const std::string& text : {std::string(), std::string("{}"), std::string("[1]"), std::string("[\"x\"]"),
                                    std::string("[" + good), deep, "[" + nested_field + "]", "[" + long_field + "]",
                                    "[" + bad_date + "]", "[" + bad_shape + "]", "[" + missing + "]"}) {
        INFO(text.substr(0, 120));
        auto parsed = certs_from_json(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().what == "read the certificate list from the session");
    }
}
