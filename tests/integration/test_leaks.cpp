// Nothing stored may reach any file outside the vault: not a temp file, not a lock file, not a
// stray log. Every command path runs with a recognisable value, then the places a careless
// program writes to are searched for it.
#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/support/leak_scan.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;


TEST_CASE("no stored value or passphrase reaches any file outside the vault", "[leaks]") {
    VaultFixture v;
    std::string value = random_marker("leak-canary-");
    std::string second = random_marker("leak-canary-two-");
    REQUIRE(v.set("a", value).exit_code == 0);
    REQUIRE(v.set("b", second).exit_code == 0);
    REQUIRE(v.get("a").out == value);
    REQUIRE(v.gp({"secret", "ls", "--json"}).exit_code == 0);
    REQUIRE(v.gp({"status"}).exit_code == 0);
    REQUIRE(v.gp({"secret", "rm", "b"}).exit_code == 0);
    REQUIRE(v.gp_with({"secret", "get", "a"}, v.options({}, "wrong")).exit_code == 3);
    RunOptions o = v.options();
    std::string new_pass = random_marker("new-pass-");
    o.fd_data[4] = new_pass + "\n";
    REQUIRE(v.gp_with({"passwd", "--new-passphrase-fd", "4"}, o).exit_code == 0);

    std::vector<std::string> needles = {value, second, v.passphrase, new_pass,
                                        v.recovery_key.substr(0, 20)};
    std::vector<fs::path> excluded = {v.vault, v.vault + ".bak"};
    for (const char* root : {"/tmp", "/var/tmp", "/dev/shm"}) {
        auto hits = files_containing(root, needles, excluded);
        INFO("searched " << root);
        for (const auto& h : hits) UNSCOPED_INFO("found in " << h);
        CHECK(hits.empty());
    }
    auto home_hits = files_containing(v.dir.path(), needles, excluded);
    CHECK(home_hits.empty());
    // The vault itself holds none of them in clear.
    std::string vault_bytes = read_text(v.vault) + read_text(v.vault + ".bak");
    for (const auto& needle : needles) CHECK_FALSE(contains(vault_bytes, needle));
}
