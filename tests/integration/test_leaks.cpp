// Nothing stored may reach any file outside the vault: not a temp file, not a lock file, not a
// stray log. Every command path runs with a recognisable value, then the places a careless
// program writes to are searched for it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> files_containing(const fs::path& root, const std::vector<std::string>& needles,
                                          const std::vector<fs::path>& excluded) {
    std::vector<std::string> hits;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        std::error_code fec;
        if (!it->is_regular_file(fec) || it->file_size(fec) > (64u << 20)) continue;
        bool skip = false;
        for (const auto& ex : excluded) skip = skip || fs::equivalent(it->path(), ex, fec);
        if (skip) continue;
        std::ifstream in(it->path(), std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (const auto& needle : needles)
            if (contains(content, needle)) hits.push_back(it->path().string());
    }
    return hits;
}

}  // namespace

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
