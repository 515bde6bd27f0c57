// ghostpod-vault(5) must describe the format well enough for someone else to write a reader.
// tests/support/read_vault_spec.py is such a reader, written from the man page alone; here it
// must decrypt what the real binary wrote, with the passphrase and with the recovery key.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;

namespace {

std::string sha256_hex(const std::string& data) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    char hex[sizeof digest * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
}

nlohmann::json read_with_spec_reader(const std::string& vault, const std::string& how, const std::string& credential) {
    RunOptions o;
    o.stdin_data = credential + (credential.back() == '\n' ? "" : "\n");
    auto r = run({"python3", source_dir() + "/tests/support/read_vault_spec.py", vault, how}, o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("a reader written from ghostpod-vault(5) alone decrypts what ghostpod wrote", "[spec]") {
    VaultFixture v;
    std::string pem = "-----BEGIN AGE KEY-----\nline one\nline two\n-----END AGE KEY-----\n";
    std::string spanning(2 * 65536 + 100, 'x');  // forces three payload chunks
    for (std::size_t i = 0; i < spanning.size(); i += 7) spanning[i] = static_cast<char>(i % 251);
    REQUIRE(v.set("age/keys.txt", pem).exit_code == 0);
    REQUIRE(v.gp({"secret", "set", "big", "--kind", "env", "--mode", "0640"}, spanning).exit_code == 0);
    REQUIRE(v.set("empty", "").exit_code == 0);

    for (const auto& [how, credential] : {std::pair<std::string, std::string>{"pw", v.passphrase}, {"rk", v.recovery_key}}) {
        INFO("unlocked with " << how);
        auto j = read_with_spec_reader(v.vault, how, credential);
        CHECK(j["keyslots"] == 2);
        CHECK(j["generation"] == 4);
        CHECK(j["chunks"] == 3);
        REQUIRE(j["entries"].size() == 3);
        CHECK(j["entries"][0]["name"] == "age/keys.txt");
        CHECK(j["entries"][0]["sha256"] == sha256_hex(pem));
        CHECK(j["entries"][1]["name"] == "big");
        CHECK(j["entries"][1]["kind"] == 2);
        CHECK(j["entries"][1]["mode"] == "0o640");
        CHECK(j["entries"][1]["sha256"] == sha256_hex(spanning));
        CHECK(j["entries"][2]["sha256"] == sha256_hex(""));
    }
}

TEST_CASE("the spec reader refuses a wrong passphrase, so its success above means something", "[spec]") {
    VaultFixture v;
    REQUIRE(v.set("a", "alpha").exit_code == 0);
    RunOptions o;
    o.stdin_data = v.passphrase + "x\n";
    auto r = run({"python3", source_dir() + "/tests/support/read_vault_spec.py", v.vault, "pw"}, o);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("wrong credential") != std::string::npos);
}
