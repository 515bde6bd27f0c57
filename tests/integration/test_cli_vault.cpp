#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;

namespace {
const std::string kPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n"
    "-----END PRIVATE KEY-----\n";
}

TEST_CASE("secret set and get round-trip every byte value, PEM and empty values exactly", "[cli]") {
    VaultFixture v;
    std::string binary;
    for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
    binary += binary + "\n\r\n";
    std::string large(1 << 20, 'L');
    large[12345] = '\0';
    for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
             {"binary", binary}, {"tls/key.pem", kPem}, {"empty", ""}, {"large", large}, {"no-newline", "tail"}}) {
        INFO(name);
        auto set = v.set(name, value);
        CHECK(set.exit_code == 0);
        CHECK(set.err.empty());
        auto got = v.get(name);
        CHECK(got.exit_code == 0);
        CHECK(got.out == value);
    }
}

TEST_CASE("init then set and get works as in the README's automation example", "[cli]") {
    TempDir dir;
    RunOptions o;
    o.fd_data[3] = "pw\n";
    auto init = run({ghostpod_binary(), "--vault", dir / "V", "--passphrase-fd", "3", "init", "--kdf", "interactive"}, o);
    REQUIRE(init.exit_code == 0);
    o.stdin_data = "s3cr3t";
    auto set = run({ghostpod_binary(), "--vault", dir / "V", "--passphrase-fd", "3", "secret", "set", "db/password"}, o);
    REQUIRE(set.exit_code == 0);
    o.stdin_data.clear();
    auto get = run({ghostpod_binary(), "--vault", dir / "V", "--passphrase-fd", "3", "secret", "get", "db/password"}, o);
    CHECK(get.exit_code == 0);
    CHECK(get.out == "s3cr3t");
}

TEST_CASE("secret set --file stores the file's bytes and records the source", "[cli]") {
    VaultFixture v;
    write_text(v.dir / "kubeconfig", kPem);
    REQUIRE(v.gp({"secret", "set", "kube/config", "--file", v.dir / "kubeconfig", "--mode", "0440"}).exit_code == 0);
    CHECK(v.get("kube/config").out == kPem);
    auto ls = v.gp({"secret", "ls", "--json"});
    REQUIRE(ls.exit_code == 0);
    auto list = nlohmann::json::parse(ls.out);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["name"] == "kube/config");
    CHECK(list[0]["mode"] == "0440");
    CHECK(list[0]["size"] == kPem.size());
    CHECK(list[0]["kind"] == "file");
    CHECK(list[0]["source"] == "file:" + (v.dir / "kubeconfig"));
    CHECK(ls.out.find("PRIVATE KEY") == std::string::npos);
}

TEST_CASE("secret ls lists names sorted and never values", "[cli]") {
    VaultFixture v;
    std::string value = random_marker("value-");
    REQUIRE(v.set("zeta", value).exit_code == 0);
    REQUIRE(v.gp({"secret", "set", "alpha", "--kind", "env"}, value).exit_code == 0);
    auto ls = v.gp({"secret", "ls"});
    REQUIRE(ls.exit_code == 0);
    CHECK(ls.out.find("alpha") < ls.out.find("zeta"));
    CHECK(ls.out.find("env") != std::string::npos);
    CHECK_FALSE(contains(ls.out + ls.err, value));
}

TEST_CASE("secret rm removes one secret and a missing name exits 1 with a hint", "[cli]") {
    VaultFixture v;
    REQUIRE(v.set("a", "1").exit_code == 0);
    REQUIRE(v.set("b", "2").exit_code == 0);
    REQUIRE(v.gp({"secret", "rm", "a"}).exit_code == 0);
    auto gone = v.get("a");
    CHECK(gone.exit_code == 1);
    CHECK(gone.err.find("no secret named 'a'") != std::string::npos);
    CHECK(gone.err.find("hint: list them with 'ghostpod secret ls'") != std::string::npos);
    CHECK(v.get("b").out == "2");
    CHECK(v.gp({"secret", "rm", "a"}).exit_code == 1);
}

TEST_CASE("a wrong passphrase exits 3 and shows no stored value", "[cli]") {
    VaultFixture v;
    std::string value = random_marker("value-");
    REQUIRE(v.set("a", value).exit_code == 0);
    for (const std::vector<std::string>& args : {std::vector<std::string>{"secret", "get", "a"}, {"secret", "ls"},
                                                 {"secret", "set", "b"}, {"secret", "rm", "a"}}) {
        auto r = v.gp_with(args, v.options("x", v.passphrase + "!"));
        INFO(args[1]);
        CHECK(r.exit_code == 3);
        CHECK(r.err.find("wrong passphrase") != std::string::npos);
        CHECK_FALSE(contains(r.out + r.err, value));
    }
    CHECK(v.get("a").out == value);
}

TEST_CASE("passwd changes the passphrase and keeps every secret", "[cli]") {
    VaultFixture v;
    REQUIRE(v.set("a", "alpha").exit_code == 0);
    std::string before = read_text(v.vault);
    RunOptions o = v.options();
    o.fd_data[4] = "the new passphrase\n";
    auto r = v.gp_with({"passwd", "--new-passphrase-fd", "4"}, o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::string after = read_text(v.vault);
    // Same payload bytes after the (equal-sized) header: the data was not re-encrypted.
    CHECK(after.size() == before.size());
    CHECK(after.substr(after.size() - 64) == before.substr(before.size() - 64));
    CHECK(v.gp({"secret", "get", "a"}).exit_code == 3);
    // The backup must not keep the old keyslot (it wraps the same data key).
    auto backup = run(gp(v.vault + ".bak", {"secret", "get", "a"}), v.options());
    CHECK(backup.exit_code == 3);
    CHECK(read_text(v.vault + ".bak") == after);
    auto got = v.gp_with({"secret", "get", "a"}, v.options({}, "the new passphrase"));
    CHECK(got.exit_code == 0);
    CHECK(got.out == "alpha");
}

TEST_CASE("passwd reads old and new passphrase as two lines of one descriptor", "[cli]") {
    VaultFixture v;
    REQUIRE(v.set("a", "alpha").exit_code == 0);
    RunOptions o = v.options();
    o.fd_data[3] = v.passphrase + "\nsecond line passphrase\n";
    REQUIRE(v.gp_with({"passwd", "--new-passphrase-fd", "3"}, o).exit_code == 0);
    CHECK(v.gp_with({"secret", "get", "a"}, v.options({}, "second line passphrase")).out == "alpha");
}

TEST_CASE("the recovery key unlocks the vault and resets a lost passphrase", "[cli]") {
    VaultFixture v;
    REQUIRE(v.set("a", "alpha").exit_code == 0);
    RunOptions o = v.options();
    o.fd_data.erase(3);
    o.fd_data[5] = v.recovery_key;
    auto get = run({ghostpod_binary(), "--vault", v.vault, "--recovery-key-fd", "5", "secret", "get", "a"}, o);
    CHECK(get.exit_code == 0);
    CHECK(get.out == "alpha");
    o.fd_data[6] = "after recovery\n";
    auto reset = run({ghostpod_binary(), "--vault", v.vault, "--recovery-key-fd", "5", "passwd", "--new-passphrase-fd", "6"}, o);
    REQUIRE(reset.exit_code == 0);
    CHECK(v.gp_with({"secret", "get", "a"}, v.options({}, "after recovery")).out == "alpha");
    // A key of the right shape that is not this vault's: exit 3.
    std::string wrong = v.recovery_key;
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    o.fd_data[5] = wrong;
    auto bad = run({ghostpod_binary(), "--vault", v.vault, "--recovery-key-fd", "5", "secret", "get", "a"}, o);
    INFO(bad.err);
    CHECK(bad.exit_code == 3);
    CHECK(bad.err.find("wrong recovery key") != std::string::npos);
}

TEST_CASE("init refuses to overwrite an existing vault and changes nothing", "[cli]") {
    VaultFixture v;
    REQUIRE(v.set("a", "alpha").exit_code == 0);
    std::string before = read_text(v.vault);
    auto again = v.gp({"init"});
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("already exists") != std::string::npos);
    CHECK(read_text(v.vault) == before);
}

TEST_CASE("init --user together with an explicit vault is a usage error", "[cli]") {
    TempDir dir;
    RunOptions o;
    o.fd_data[3] = "pw\n";
    auto r = run({ghostpod_binary(), "--vault", dir / "v", "--passphrase-fd", "3", "init", "--user"}, o);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--user conflicts") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "v"));
}

TEST_CASE("init refuses an empty passphrase", "[cli]") {
    TempDir dir;
    RunOptions o;
    o.fd_data[3] = "\n";
    auto r = run({ghostpod_binary(), "--vault", dir / "v", "--passphrase-fd", "3", "init"}, o);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("empty") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "v"));
}

TEST_CASE("without a terminal or --passphrase-fd the passphrase is not guessed", "[cli]") {
    VaultFixture v;
    RunOptions o = v.options();
    o.fd_data.clear();
    auto r = run({ghostpod_binary(), "--vault", v.vault, "secret", "ls"}, o);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("there is no terminal") != std::string::npos);
    CHECK(r.err.find("--passphrase-fd") != std::string::npos);
    auto closed = run({ghostpod_binary(), "--vault", v.vault, "--passphrase-fd", "9", "secret", "ls"}, o);
    CHECK(closed.exit_code == 2);
    CHECK(closed.err.find("not open") != std::string::npos);
}

TEST_CASE("a missing vault exits 1 and suggests init", "[cli]") {
    TempDir dir;
    RunOptions o;
    o.fd_data[3] = "pw\n";
    auto r = run({ghostpod_binary(), "--vault", dir / "nothing", "--passphrase-fd", "3", "secret", "ls"}, o);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no vault at") != std::string::npos);
    CHECK(r.err.find("ghostpod init") != std::string::npos);
}

TEST_CASE("init in a directory creates the project layout found from subdirectories", "[cli]") {
    TempDir dir;
    std::filesystem::create_directories(dir / "project/sub/deeper");
    RunOptions o;
    o.fd_data[3] = "pw\n";
    o.cwd = dir / "project";
    o.env = {{"GHOSTPOD_VAULT", ""}, {"GHOSTPOD_CONFIG", ""}, {"HOME", dir.path()}};
    auto init = run({ghostpod_binary(), "--passphrase-fd", "3", "init", "--kdf", "interactive"}, o);
    REQUIRE(init.exit_code == 0);
    CHECK(std::filesystem::exists(dir / "project/.ghostpod/vault"));
    CHECK(read_text(dir / "project/.ghostpod/config.json").find("\"version\": 1") != std::string::npos);
    CHECK(read_text(dir / "project/.ghostpod/.gitignore").find("vault\n") != std::string::npos);
    // Config and .gitignore are for collaborators (0644); the vault is the owner's alone (0600).
    auto perms = [](const std::string& p) { return std::filesystem::status(p).permissions() & std::filesystem::perms::all; };
    using std::filesystem::perms;
    CHECK(perms(dir / "project/.ghostpod/config.json") == (perms::owner_read | perms::owner_write | perms::group_read | perms::others_read));
    CHECK(perms(dir / "project/.ghostpod/.gitignore") == (perms::owner_read | perms::owner_write | perms::group_read | perms::others_read));
    CHECK(perms(dir / "project/.ghostpod/vault") == (perms::owner_read | perms::owner_write));
    o.cwd = dir / "project/sub/deeper";
    o.stdin_data = "found upward";
    REQUIRE(run({ghostpod_binary(), "--passphrase-fd", "3", "secret", "set", "x"}, o).exit_code == 0);
    o.stdin_data.clear();
    auto status = run({ghostpod_binary(), "status", "--json"}, o);
    REQUIRE(status.exit_code == 0);
    auto s = nlohmann::json::parse(status.out);
    CHECK(s["vault"]["origin"] == "project");
    CHECK(s["vault"]["entries"] == 1);
    CHECK(s["config"]["exists"] == true);
}

TEST_CASE("GHOSTPOD_VAULT selects the vault when --vault is absent", "[cli]") {
    VaultFixture v;
    REQUIRE(v.set("a", "from env").exit_code == 0);
    RunOptions o = v.options();
    o.env["GHOSTPOD_VAULT"] = v.vault;
    auto r = run({ghostpod_binary(), "--passphrase-fd", "3", "secret", "get", "a"}, o);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "from env");
}

TEST_CASE("status reports the vault without a passphrase and never a value", "[cli]") {
    VaultFixture v;
    std::string value = random_marker("value-");
    REQUIRE(v.set("a", value).exit_code == 0);
    RunOptions o = v.options();
    o.fd_data.clear();
    auto r = run({ghostpod_binary(), "--vault", v.vault, "status", "--json"}, o);
    REQUIRE(r.exit_code == 0);
    auto s = nlohmann::json::parse(r.out);
    CHECK(s["vault"]["entries"] == 1);
    CHECK(s["vault"]["generation"] == 2);
    CHECK(s["vault"]["backup"] == true);
    REQUIRE(s["vault"]["keyslots"].size() == 2);
    CHECK(s["vault"]["keyslots"][0]["profile"] == "interactive");
    CHECK(s["vault"]["keyslots"][1]["type"] == "recovery-key");
    CHECK(s["posture"]["core_dumps_disabled"] == true);
    CHECK_FALSE(contains(r.out + r.err, value));
    auto missing = run({ghostpod_binary(), "--vault", v.dir / "none", "status"}, o);
    CHECK(missing.exit_code == 1);
    CHECK(missing.out.find("ghostpod init") != std::string::npos);
}

TEST_CASE("invalid names, kinds and modes are usage errors that change nothing", "[cli]") {
    VaultFixture v;
    std::string before = read_text(v.vault);
    CHECK(v.gp({"secret", "set", "../escape"}, "x").exit_code == 2);
    CHECK(v.gp({"secret", "set", "ok", "--kind", "bogus"}, "x").exit_code == 2);
    CHECK(v.gp({"secret", "set", "ok", "--mode", "4755"}, "x").exit_code == 2);
    CHECK(v.gp({"secret", "set", "ok", "--mode", "9"}, "x").exit_code == 2);
    CHECK(v.gp({"secret", "get"}).exit_code == 2);
    CHECK(v.gp({"secret", "frob"}).exit_code == 2);
    CHECK(read_text(v.vault) == before);
}
