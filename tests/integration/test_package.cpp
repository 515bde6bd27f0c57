// The .deb that cmake/Packaging.cmake describes, built with cpack from this build tree and
// unpacked into a scratch directory; and the shell completions it ships, run for real.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>

#include "tests/support/completion.hpp"
#include "tests/support/process.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;

#ifndef GHOSTPOD_BUILD_DIR
#define GHOSTPOD_BUILD_DIR ""
#endif

namespace {

// The build tree, or "" when the tests run from a copy of the binaries without one (CI's
// unprivileged run) or cannot write to it (cpack stages its files there).
std::string usable_build_tree() {
    std::string dir = GHOSTPOD_BUILD_DIR;
    // The non-throwing exists: the unprivileged pass may not be allowed to look (a clone in /root).
    std::error_code ec;
    if (dir.empty() || !fs::exists(dir + "/CPackConfig.cmake", ec) || ::access(dir.c_str(), W_OK) != 0) return {};
    return dir;
}

bool installed(const std::string& program) {
    return run({"sh", "-c", "command -v " + program}).exit_code == 0;
}

// Builds the package into `out` and returns the .deb's path.
std::string build_deb(const std::string& build_dir, const std::string& out) {
    auto r = run({"cpack", "--config", build_dir + "/CPackConfig.cmake", "-B", out});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    std::string deb;
    for (const auto& entry : fs::directory_iterator(out))
        if (entry.path().extension() == ".deb") deb = entry.path();
    REQUIRE_FALSE(deb.empty());
    return deb;
}

}  // namespace

TEST_CASE("the .deb installs a working binary, man pages and completions and declares its libraries", "[package]") {
    std::string build_dir = usable_build_tree();
    if (build_dir.empty()) {
        GP_SKIP("needs the build tree (no writable " << GHOSTPOD_BUILD_DIR
                                                     << "/CPackConfig.cmake; this run uses copied binaries)");
    }
    if (!installed("cpack") || !installed("dpkg-deb")) FAIL("cpack and dpkg-deb are needed (cmake, dpkg)");
    TempDir scratch;
    std::string deb = build_deb(build_dir, scratch / "out");
    CHECK(fs::path(deb).filename().string().rfind("ghostpod_", 0) == 0);

    auto unpacked = run({"dpkg-deb", "-x", deb, scratch / "root"});
    INFO(unpacked.err);
    REQUIRE(unpacked.exit_code == 0);
    std::string binary = scratch / "root/usr/bin/ghostpod";
    auto version = run({binary, "--version"});
    CHECK(version.exit_code == 0);
    CHECK(version.out.rfind("ghostpod ", 0) == 0);
    CHECK(version.out == run({ghostpod_binary(), "--version"}).out);
    auto help = run({binary, "--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("Usage: ghostpod") != std::string::npos);
    CHECK(help.out.find("secret generate age") != std::string::npos);

    // The full program and its lazily loaded module ship in the package's library directory,
    // and the unpacked front finds them there (no PATH, no LD_LIBRARY_PATH): certs runs in the
    // full program and reads each secret with the module's parsers.
    std::string module, full;
    for (const auto& entry : fs::recursive_directory_iterator(scratch / "root")) {
        if (entry.path().filename() == "ghostpod-net.so") module = entry.path();
        if (entry.path().filename() == "ghostpod" && entry.path().parent_path().filename() == "ghostpod") full = entry.path();
    }
    std::vector<std::string> programs = {binary};
    if (!full_program().empty()) {
        INFO(module << " " << full);
        CHECK(module.find("/root/usr/lib/") != std::string::npos);
        REQUIRE(full.find("/root/usr/lib/") != std::string::npos);
        CHECK(fs::path(module).parent_path() == fs::path(full).parent_path());
        programs.push_back(full);
        VaultFixture v;
        REQUIRE(v.set("note", "not a certificate").exit_code == 0);
        auto options = v.options();
        auto certs = run({binary, "--vault", v.vault, "--passphrase-fd", "3", "certs"}, options);
        INFO(certs.err);
        CHECK(certs.exit_code == 0);
    }

    for (const char* path : {"usr/share/man/man1/ghostpod.1", "usr/share/man/man5/ghostpod-config.5",
                             "usr/share/man/man5/ghostpod-vault.5"}) {
        INFO(path);
        CHECK(fs::exists(scratch / "root/" + path));
    }
    CHECK(read_text(scratch / "root/usr/share/bash-completion/completions/ghostpod") ==
          read_text(source_dir() + "/completions/ghostpod.bash"));
    CHECK(read_text(scratch / "root/usr/share/zsh/vendor-completions/_ghostpod") ==
          read_text(source_dir() + "/completions/_ghostpod"));

    auto info = run({"dpkg-deb", "-I", deb});
    REQUIRE(info.exit_code == 0);
    INFO(info.out);
    CHECK(info.out.find(" Package: ghostpod\n") != std::string::npos);
    CHECK(info.out.find(" Maintainer: ") != std::string::npos);
    CHECK(info.out.find(" Section: utils\n") != std::string::npos);
    CHECK(info.out.find(" Description: ") != std::string::npos);
    auto depends_at = info.out.find(" Depends: ");
    REQUIRE(depends_at != std::string::npos);
    std::string depends = info.out.substr(depends_at, info.out.find('\n', depends_at) - depends_at);
    for (const char* package : {"libsodium23", "libargon2-1", "libcurl4", "libyaml-cpp", "libseccomp2",
                                "libstdc++6", "libc6"}) {
        INFO(package);
        CHECK(depends.find(package) != std::string::npos);
    }
    // The declared dependencies resolve on this Debian: apt would install the package as it is.
    if (installed("apt-get")) {
        auto simulated = run({"apt-get", "install", "--simulate", "-q", deb});
        INFO(simulated.out << simulated.err);
        CHECK(simulated.exit_code == 0);
        CHECK(contains(simulated.out, "Inst ghostpod "));
    }
    // zlib and libcrypto are linked only while some code uses them (the linker drops the rest):
    // each library a program needs must be declared. The front needs none: it is static.
    for (const auto& program : programs) {
        auto needed = run({"readelf", "-d", program});
        INFO(program);
        REQUIRE(needed.exit_code == 0);
        if (program == binary && !full_program().empty()) CHECK(!contains(needed.out, "(NEEDED)"));
        for (auto [library, package] : {std::pair{"[libz.so", "zlib1g"}, std::pair{"[libcrypto.so", "libssl3"}}) {
            INFO(library << " -> " << package);
            if (contains(needed.out, library)) CHECK(depends.find(package) != std::string::npos);
        }
    }
}

TEST_CASE("bash completion offers commands, subcommands, options and generate's type", "[package]") {
    if (!fs::exists(source_dir() + "/completions/ghostpod.bash")) {
        GP_SKIP("needs the source tree (" << source_dir() << "/completions is not here)");
    }
    CHECK(bash_complete("ghostpod se") == "secret\n");
    std::string secret = bash_complete("ghostpod secret ''");
    for (const char* sub : {"set", "get", "ls", "rm", "generate"}) CHECK(has_line(secret, sub));
    CHECK(bash_complete("ghostpod --vault v secret generate ''") == "age\n");
    std::string globals = bash_complete("ghostpod --");
    for (const char* option : {"--vault", "--config", "--passphrase-fd", "--recovery-key-fd", "--help", "--version"})
        CHECK(has_line(globals, option));
    std::string certs = bash_complete("ghostpod certs --");
    CHECK(has_line(certs, "--warn-days"));
    CHECK(has_line(certs, "--json"));
    CHECK(bash_complete("ghostpod init --kdf mod") == "moderate\n");
    std::string import = bash_complete("ghostpod import ''");
    CHECK(has_line(import, "tazpod"));
    CHECK(has_line(import, "dotenv"));
}

TEST_CASE("the zsh completion parses", "[package]") {
    if (!installed("zsh")) {
        GP_SKIP("zsh is not installed (scripts/install-deps.sh installs it)");
    }
    auto r = run({"zsh", "-n", source_dir() + "/completions/_ghostpod"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
}
