#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/temp_dir.hpp"
#include "vault/store.hpp"

using namespace ghostpod;
using ghostpod::test::TempDir;

namespace {
std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }
}  // namespace

TEST_CASE("replacing the vault keeps the previous generation as .bak", "[store]") {
    TempDir dir;
    std::string path = dir / "vault";
    REQUIRE(replace_vault_file(path, bytes_of("generation one")));
    CHECK(test::read_text(path) == "generation one");
    CHECK_FALSE(file_exists(backup_path(path)));
    REQUIRE(replace_vault_file(path, bytes_of("generation two")));
    CHECK(test::read_text(path) == "generation two");
    CHECK(test::read_text(backup_path(path)) == "generation one");
    REQUIRE(replace_vault_file(path, bytes_of("generation three")));
    CHECK(test::read_text(backup_path(path)) == "generation two");
    CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

TEST_CASE("temp files left by a killed writer are removed by the next save", "[store]") {
    TempDir dir;
    std::string path = dir / "vault";
    test::write_text(dir / ".vault.tmp-AbC123", "stale ciphertext");
    test::write_text(dir / ".vault.tmp-XyZ789.bak", "stale backup staging");
    test::write_text(dir / "unrelated", "keep me");
    REQUIRE(replace_vault_file(path, bytes_of("fresh")));
    CHECK_FALSE(file_exists(dir / ".vault.tmp-AbC123"));
    CHECK_FALSE(file_exists(dir / ".vault.tmp-XyZ789.bak"));
    CHECK(test::read_text(dir / "unrelated") == "keep me");
    std::size_t files = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
    CHECK(files == 2);  // vault + unrelated
}

TEST_CASE("a failed save leaves no file behind and reports the step", "[store]") {
    TempDir dir;
    std::string path = dir / "missing-dir/vault";
    auto result = replace_vault_file(path, bytes_of("x"));
    REQUIRE_FALSE(result);
    CHECK(result.error().errnum == ENOENT);
    CHECK(result.error().describe().find("missing-dir") != std::string::npos);
}

TEST_CASE("the writer lock excludes a second writer until released", "[store]") {
    TempDir dir;
    std::string path = dir / "vault";
    {
        auto lock = VaultLock::acquire(path);
        REQUIRE(lock);
        int probe = ::open((path + ".lock").c_str(), O_RDWR | O_CLOEXEC);
        REQUIRE(probe >= 0);
        CHECK(::flock(probe, LOCK_EX | LOCK_NB) != 0);
        CHECK(errno == EWOULDBLOCK);
        ::close(probe);
    }
    int probe = ::open((path + ".lock").c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(probe >= 0);
    CHECK(::flock(probe, LOCK_EX | LOCK_NB) == 0);
    ::close(probe);
}

TEST_CASE("a symlinked vault path resolves to its target so writes keep the link", "[store]") {
    TempDir dir;
    std::string real = dir / "real-vault";
    REQUIRE(replace_vault_file(real, bytes_of("one")));
    std::filesystem::create_symlink(real, dir / "link");
    std::string resolved = resolve_vault_path(dir / "link");
    CHECK(std::filesystem::equivalent(resolved, real));
    REQUIRE(replace_vault_file(resolved, bytes_of("two")));
    CHECK(std::filesystem::is_symlink(dir / "link"));
    CHECK(test::read_text(dir / "link") == "two");
}
