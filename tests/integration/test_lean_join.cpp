// What the join path loads (issue 16): run, enter, status, lock and --version map none of the
// libraries only pulls and certificate parsing use (libcurl and its tree, OpenSSL, yaml-cpp,
// zlib, libseccomp); those live in the lazily loaded module (pod/net_module.cpp), which the
// holder loads. Seen through the dynamic loader's own log (LD_DEBUG=files, one file a process).
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/session.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;

namespace {

// The module is loaded from its descriptor: the loader names it /proc/self/fd/N.
const std::vector<std::string> kHeavy = {"dynamically loaded", "libcurl", "libssl", "libcrypto", "libyaml-cpp", "libz.so",
                                         "libseccomp", "libgnutls", "libldap"};

// Runs ghostpod `args` with the loader logging every file it loads into `log_dir` (one file a
// process, the holder's too); returns the result and, in `loaded`, every log line naming a file.
RunResult logged(const VaultFixture& v, const std::vector<std::string>& args, const std::string& log_dir, std::string& loaded,
                 RunOptions options) {
    fs::remove_all(log_dir);
    fs::create_directories(log_dir);
    options.env["LD_DEBUG"] = "files";
    options.env["LD_DEBUG_OUTPUT"] = log_dir + "/ld";
    auto r = v.gp_with(args, options);
    loaded.clear();
    for (const auto& entry : fs::directory_iterator(log_dir)) {
        std::string text = read_text(entry.path());
        std::size_t at = 0;
        while ((at = text.find("file=", at)) != std::string::npos) {
            loaded += text.substr(at, text.find('\n', at) - at) + "\n";
            ++at;
        }
    }
    return r;
}

bool has_module() { return fs::exists(fs::path(ghostpod_binary()).parent_path() / "ghostpod-net.so"); }

std::string heavy_in(const std::string& loaded) {
    std::string found;
    for (const auto& name : kHeavy)
        if (contains(loaded, name)) found += name + " ";
    return found;
}

}  // namespace

TEST_CASE("joining a session with run, enter, status and lock loads no network or parsing library", "[lean]") {
    if (!has_module()) GP_SKIP("this build links the module's libraries directly (no ghostpod-net.so: a sanitizer build)");
    VaultFixture v;
    REQUIRE(v.set("token", "lean-secret").exit_code == 0);
    start_lingering_session(v, unique_sleep());
    TempDir logs;
    std::string loaded;
    auto options = v.options();
    options.env["SHELL"] = "/bin/true";  // enter's shell
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"run", "--", "true"}, {"run", "--", "sh", "-c", "test -s \"$GHOSTPOD_DIR/token\""}, {"enter"}, {"status"},
             {"status", "--json"}, {"--version"}, {"lock"}}) {
        auto r = logged(v, args, logs / "ld", loaded, options);
        INFO(args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r.err);
        CHECK(r.exit_code == 0);
        CHECK(contains(loaded, "libsodium"));  // the log works: what is linked shows in it
        CHECK(heavy_in(loaded) == "");
    }
}

TEST_CASE("a new session's holder loads the module that the join path does without", "[lean]") {
    if (!has_module()) GP_SKIP("this build links the module's libraries directly (no ghostpod-net.so: a sanitizer build)");
    VaultFixture v;
    TempDir logs;
    std::string loaded;
    auto r = logged(v, {"run", "--linger", "0", "--", "true"}, logs / "ld", loaded, v.options());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // The holder compiles the session's seccomp program with libseccomp, from the module.
    CHECK(contains(loaded, "dynamically loaded by"));
    CHECK(contains(loaded, "libseccomp"));
    CHECK(contains(loaded, "libcurl"));
    v.gp({"lock"});
}

namespace {

// A copy of the binary and its module in a directory of the test's own; "" without a module
// (a build without the lazy module, e.g. a sanitizer build).
std::string copy_binary_and_module(const TempDir& into) {
    fs::path binary = ghostpod_binary();
    fs::path module = binary.parent_path() / "ghostpod-net.so";
    if (!fs::exists(module)) return "";
    fs::copy_file(binary, into / "ghostpod");
    fs::copy_file(module, into / "ghostpod-net.so");
    return into / "ghostpod";
}

// certs reads each secret with the module's parsers: it loads the module.
RunResult certs_with(const VaultFixture& v, const std::string& binary) {
    return run({binary, "--vault", v.vault, "--passphrase-fd", "3", "certs"}, v.options());
}

}  // namespace

TEST_CASE("the module is loaded from beside the binary, and not when anyone else could have written it", "[lean]") {
    TempDir copy;
    std::string binary = copy_binary_and_module(copy);
    if (binary.empty()) GP_SKIP("this build links the module's libraries directly (no ghostpod-net.so)");
    VaultFixture v;
    REQUIRE(v.set("note", "not a certificate").exit_code == 0);
    REQUIRE(certs_with(v, binary).exit_code == 0);
    // Writable by the group: whoever is in it could have put code there.
    fs::permissions(copy / "ghostpod-net.so", fs::perms::group_write, fs::perm_options::add);
    auto writable = certs_with(v, binary);
    CHECK(writable.exit_code == 1);
    CHECK(contains(writable.err, "writable by no one else"));
    fs::permissions(copy / "ghostpod-net.so", fs::perms::group_write, fs::perm_options::remove);
    if (::geteuid() == 0) {
        // Owned by another user (nobody), as a file planted in a shared directory would be.
        REQUIRE(::chown((copy / "ghostpod-net.so").c_str(), 65534, 65534) == 0);
        auto planted = certs_with(v, binary);
        CHECK(planted.exit_code == 1);
        CHECK(contains(planted.err, "owned by root, by you or by the binary's owner"));
        // The binary's owner's is trusted as the binary is.
        REQUIRE(::chown(binary.c_str(), 65534, 65534) == 0);
        CHECK(certs_with(v, binary).exit_code == 0);
        REQUIRE(::chown(binary.c_str(), 0, 0) == 0);
        REQUIRE(::chown((copy / "ghostpod-net.so").c_str(), 0, 0) == 0);
    }
    // No module: the command says what is missing; LD_LIBRARY_PATH offers no other.
    fs::rename(copy / "ghostpod-net.so", copy / "elsewhere.so");
    fs::create_directories(copy / "lib");
    fs::copy_file(copy / "elsewhere.so", copy / "lib/ghostpod-net.so");
    auto options = v.options();
    options.env["LD_LIBRARY_PATH"] = copy / "lib";
    auto missing = run({binary, "--vault", v.vault, "--passphrase-fd", "3", "certs"}, options);
    CHECK(missing.exit_code == 1);
    CHECK(contains(missing.err, "no ghostpod-net.so"));
}

TEST_CASE("a module of another build is refused before any of its code is called", "[lean]") {
    TempDir copy;
    std::string binary = copy_binary_and_module(copy);
    if (binary.empty()) GP_SKIP("this build links the module's libraries directly (no ghostpod-net.so)");
    // The build token: a run of exactly 32 hex digits ending in NUL that the binary holds too
    // (not, say, the digit pairs table of std::to_chars).
    std::string module = read_bytes(copy / "ghostpod-net.so"), exe = read_bytes(binary);
    std::size_t token_at = std::string::npos;
    auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    for (std::size_t at = 0; at < module.size() && token_at == std::string::npos;) {
        std::size_t n = 0;
        while (at + n < module.size() && hex(module[at + n])) ++n;
        if (n == 32 && at + n < module.size() && module[at + n] == '\0' &&
            exe.find(module.substr(at, 33)) != std::string::npos)
            token_at = at;
        at += n + 1;
    }
    REQUIRE(token_at != std::string::npos);
    module[token_at] = module[token_at] == '0' ? '1' : '0';
    write_text(copy / "ghostpod-net.so", module);
    fs::permissions(copy / "ghostpod-net.so", fs::perms::owner_all, fs::perm_options::replace);
    VaultFixture v;
    REQUIRE(v.set("note", "not a certificate").exit_code == 0);
    auto other = certs_with(v, binary);
    CHECK(other.exit_code == 1);
    CHECK(contains(other.err, "another build"));
}

