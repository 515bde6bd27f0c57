// 'secret generate age' through the real binary: the real age encrypts to the printed recipient
// outside, the real age decrypts with the stored identity inside the ghost.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;

namespace {

const std::string kKeysTxt = "sops/age/keys.txt";

// The stored identity's secret line ("AGE-SECRET-KEY-1…"), read back with 'secret get'.
std::string stored_identity(const VaultFixture& v, const std::string& name) {
    auto r = v.get(name);
    REQUIRE(r.exit_code == 0);
    auto at = r.out.find("AGE-SECRET-KEY-1");
    REQUIRE(at != std::string::npos);
    return r.out.substr(at, r.out.find('\n', at) - at);
}

}  // namespace

TEST_CASE("a generated age identity decrypts inside the ghost what age encrypted to its recipient", "[age]") {
    VaultFixture v;
    auto made = v.gp({"secret", "generate", "age", kKeysTxt});
    INFO(made.err);
    REQUIRE(made.exit_code == 0);
    REQUIRE(made.out.size() == 63);  // "age1" + 58 characters and a newline: one line, nothing else
    std::string recipient = made.out.substr(0, 62);
    CHECK(recipient.rfind("age1", 0) == 0);

    std::string message = random_marker("age-plaintext-");
    RunOptions encrypt;
    encrypt.stdin_data = message;
    encrypt.cwd = v.dir.path();
    auto sealed = run({"age", "-r", recipient, "-o", v.dir / "message.age"}, encrypt);
    INFO(sealed.err);
    REQUIRE(sealed.exit_code == 0);

    auto opened = v.gp({"run", "--", "sh", "-c", "age -d -i ~/.config/sops/age/keys.txt " + v.dir / "message.age"});
    INFO(opened.err);
    CHECK(opened.exit_code == 0);
    CHECK(opened.out == message);
    // The default path exists inside the ghost only.
    CHECK_FALSE(fs::exists(v.dir / ".config/sops/age/keys.txt"));
}

TEST_CASE("a generated age identity is stored as a 0400 file entry with its source and age-keygen's text", "[age]") {
    VaultFixture v;
    auto made = v.gp({"secret", "generate", "age", kKeysTxt});
    REQUIRE(made.exit_code == 0);
    auto ls = v.gp({"secret", "ls", "--json"});
    REQUIRE(ls.exit_code == 0);
    auto list = nlohmann::json::parse(ls.out);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["name"] == kKeysTxt);
    CHECK(list[0]["kind"] == "file");
    CHECK(list[0]["mode"] == "0400");
    CHECK(list[0]["source"] == "generated:age");
    auto value = v.get(kKeysTxt);
    CHECK(value.out.rfind("# created: ", 0) == 0);
    CHECK(value.out.find("\n# public key: " + made.out) != std::string::npos);
    // The real age-keygen derives the same recipient from the stored text.
    RunOptions feed;
    feed.stdin_data = value.out;
    auto derived = run({"age-keygen", "-y"}, feed);
    CHECK(derived.exit_code == 0);
    CHECK(derived.out == made.out);
}

TEST_CASE("generate never prints the identity, on stdout or stderr", "[age]") {
    VaultFixture v;
    auto made = v.gp({"secret", "generate", "age", "deploy/age-key"});
    REQUIRE(made.exit_code == 0);
    std::string identity = stored_identity(v, "deploy/age-key");
    CHECK_FALSE(contains(made.out, identity));
    CHECK_FALSE(contains(made.err, identity));
    CHECK_FALSE(contains(made.out + made.err, "AGE-SECRET-KEY"));
    CHECK_FALSE(contains(made.out + made.err, identity.substr(16, 20)));  // not even partly
    CHECK(made.err.find("deploy/age-key") != std::string::npos);
}

TEST_CASE("generate refuses an existing name unless --force, and --force replaces the identity", "[age]") {
    VaultFixture v;
    auto first = v.gp({"secret", "generate", "age", kKeysTxt});
    REQUIRE(first.exit_code == 0);
    std::string before = stored_identity(v, kKeysTxt);

    auto again = v.gp({"secret", "generate", "age", kKeysTxt});
    CHECK(again.exit_code == 2);
    CHECK(again.out.empty());
    CHECK(again.err.find("already exists") != std::string::npos);
    CHECK(again.err.find("--force") != std::string::npos);
    CHECK(stored_identity(v, kKeysTxt) == before);

    REQUIRE(v.set("plain", "not an identity").exit_code == 0);
    CHECK(v.gp({"secret", "generate", "age", "plain"}).exit_code == 2);
    CHECK(v.get("plain").out == "not an identity");

    auto forced = v.gp({"secret", "generate", "age", kKeysTxt, "--force"});
    CHECK(forced.exit_code == 0);
    CHECK(forced.out != first.out);
    CHECK(stored_identity(v, kKeysTxt) != before);
}

TEST_CASE("generate with an unknown type or a missing name is a usage error", "[age]") {
    VaultFixture v;
    auto ssh = v.gp({"secret", "generate", "ssh", "id"});
    CHECK(ssh.exit_code == 2);
    CHECK(ssh.err.find("unknown type 'ssh'") != std::string::npos);
    CHECK(v.gp({"secret", "generate", "age"}).exit_code == 2);
    CHECK(v.gp({"secret", "generate"}).exit_code == 2);
    CHECK(v.gp({"secret", "ls", "--json"}).out == "[]\n");
}
