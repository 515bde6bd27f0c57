// What the join path loads (issue 16). run, shell, enter, status, lock and --version are served
// by the front (pod/cli/program.hpp): a static executable, which maps no library at all, and
// which hands every other command, and every start of a session, to the full program. The
// libraries only pulls and certificate parsing use (libcurl and its tree, OpenSSL, yaml-cpp,
// zlib, libseccomp) live in the full program's lazily loaded module (pod/net_module.cpp),
// which the holder loads. Seen through the dynamic loader's own log (LD_DEBUG=files, one file a
// process) where a dynamic program runs, and through a front that has no full program beside it.
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

bool has_module() { return !full_program().empty(); }

std::string heavy_in(const std::string& loaded) {
    std::string found;
    for (const auto& name : kHeavy)
        if (contains(loaded, name)) found += name + " ";
    return found;
}

}  // namespace

TEST_CASE("the front is static: no dynamic loader and no library runs before ghostpod's own code", "[lean]") {
    if (!has_module()) GP_SKIP("this build is one executable (no front and full program: a sanitizer build)");
    auto headers = run({"readelf", "-lW", ghostpod_binary()});
    auto dynamic = run({"readelf", "-dW", ghostpod_binary()});
    REQUIRE(headers.exit_code == 0);
    INFO(headers.out << dynamic.out);
    CHECK(contains(headers.out, "DYN"));        // position-independent: its addresses are randomised
    CHECK(!contains(headers.out, "INTERP"));    // no ld.so: LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT do nothing
    CHECK(!contains(dynamic.out, "(NEEDED)"));  // no shared library
    // The full program is the dynamic one, with the module's libraries out of its link.
    auto full = run({"readelf", "-dW", full_program()});
    CHECK(contains(full.out, "libsodium"));
    CHECK(heavy_in(full.out) == "");
    // A library preloaded through the environment runs in a dynamic program (the control) and
    // not in the front.
    if (run({"sh", "-c", "command -v cc"}).exit_code != 0) GP_SKIP_PART("no C compiler to build the preloaded library");
    TempDir scratch;
    write_text(scratch / "preload.c",
               "#include <fcntl.h>\n#include <stdlib.h>\n#include <unistd.h>\n"
               "__attribute__((constructor)) static void planted(void) {\n"
               "    const char* mark = getenv(\"PRELOAD_MARK\");\n"
               "    if (mark) close(open(mark, O_CREAT | O_WRONLY, 0600));\n}\n");
    auto built = run({"cc", "-shared", "-fPIC", "-o", scratch / "preload.so", scratch / "preload.c"});
    INFO(built.err);
    REQUIRE(built.exit_code == 0);
    RunOptions preloaded;
    preloaded.env["LD_PRELOAD"] = scratch / "preload.so";
    preloaded.env["PRELOAD_MARK"] = scratch / "control";
    REQUIRE(run({"/bin/true"}, preloaded).exit_code == 0);
    CHECK(fs::exists(scratch / "control"));
    preloaded.env["PRELOAD_MARK"] = scratch / "front";
    auto version = run({ghostpod_binary(), "--version"}, preloaded);
    CHECK(version.exit_code == 0);
    CHECK(!fs::exists(scratch / "front"));
}

TEST_CASE("joining a session with run, shell, enter, status and lock needs no other program", "[lean]") {
    if (!has_module()) GP_SKIP("this build is one executable (no front and full program: a sanitizer build)");
    VaultFixture v;
    REQUIRE(v.set("token", "lean-secret").exit_code == 0);
    start_lingering_session(v, unique_sleep());
    // The front alone, with no full program (nor module) beside it: what it serves still works.
    TempDir alone;
    std::string front = alone / "ghostpod";
    fs::copy_file(ghostpod_binary(), front);
    auto options = v.options();
    options.env["SHELL"] = "/bin/true";  // shell's and enter's shell
    auto with_front = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {front, "--vault", v.vault, "--passphrase-fd", "3"});
        return run(args, options);
    };
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"run", "--", "true"}, {"run", "--", "sh", "-c", "test -s \"$GHOSTPOD_DIR/token\""}, {"enter"}, {"shell"},
             {"status"}, {"status", "--json"}, {"--version"}, {"help", "run"}}) {
        auto r = with_front(args);
        INFO(args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r.err);
        CHECK(r.exit_code == 0);
        CHECK(!contains(r.err, "full program"));
    }
    // Everything else is the full program's: the front says it is missing, and did nothing.
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"secret", "ls"}, {"certs"}, {"save"}}) {
        auto r = with_front(args);
        INFO(args[0] << ": " << r.err);
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "find ghostpod's full program"));
        CHECK(contains(r.err, alone / "lib/ghostpod/ghostpod"));
    }
    auto locked = with_front({"lock"});
    INFO(locked.err);
    CHECK(locked.exit_code == 0);
    // With no session left, run would start one: that is the full program's too.
    auto start = with_front({"run", "--", "true"});
    CHECK(start.exit_code == 1);
    CHECK(contains(start.err, "start a session: find ghostpod's full program"));
    CHECK(v.gp({"status"}).out.find("none running") != std::string::npos);
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

// A copy of the programs and the module in a directory of the test's own (the front, and
// lib/ghostpod/ with the full program and the module); "" in a build that is one executable.
std::string copy_binary_and_module(const TempDir& into) {
    if (!has_module()) return "";
    return copy_programs(into.path());
}

// certs reads each secret with the module's parsers: it loads the module.
RunResult certs_with(const VaultFixture& v, const std::string& binary) {
    return run({binary, "--vault", v.vault, "--passphrase-fd", "3", "certs"}, v.options());
}

}  // namespace

TEST_CASE("the module is loaded from beside the full program, and not when anyone else could have written it", "[lean]") {
    TempDir copy;
    std::string binary = copy_binary_and_module(copy);
    if (binary.empty()) GP_SKIP("this build links the module's libraries directly (no ghostpod-net.so)");
    const fs::path dir = copy / "lib/ghostpod", module = dir / "ghostpod-net.so", full = dir / "ghostpod";
    VaultFixture v;
    REQUIRE(v.set("note", "not a certificate").exit_code == 0);
    REQUIRE(certs_with(v, binary).exit_code == 0);
    // Writable by the group: whoever is in it could have put code there.
    fs::permissions(module, fs::perms::group_write, fs::perm_options::add);
    auto writable = certs_with(v, binary);
    CHECK(writable.exit_code == 1);
    CHECK(contains(writable.err, "writable by no one else"));
    fs::permissions(module, fs::perms::group_write, fs::perm_options::remove);
    if (::geteuid() == 0) {
        // Owned by another user (nobody), as a file planted in a shared directory would be.
        REQUIRE(::chown(module.c_str(), 65534, 65534) == 0);
        auto planted = certs_with(v, binary);
        CHECK(planted.exit_code == 1);
        CHECK(contains(planted.err, "owned by root, by you or by the binary's owner"));
        // The binary's owner's is trusted as the binary is (the front's owner's as the front is).
        for (const fs::path& program : {full, fs::path(binary)}) REQUIRE(::chown(program.c_str(), 65534, 65534) == 0);
        CHECK(certs_with(v, binary).exit_code == 0);
        for (const fs::path& program : {full, fs::path(binary), module}) REQUIRE(::chown(program.c_str(), 0, 0) == 0);
    }
    // No module: the command says what is missing; LD_LIBRARY_PATH offers no other.
    fs::rename(module, copy / "elsewhere.so");
    fs::copy_file(copy / "elsewhere.so", copy / "lib/ghostpod-net.so");
    auto options = v.options();
    options.env["LD_LIBRARY_PATH"] = copy / "lib";
    auto missing = run({binary, "--vault", v.vault, "--passphrase-fd", "3", "certs"}, options);
    CHECK(missing.exit_code == 1);
    CHECK(contains(missing.err, "no ghostpod-net.so"));
}

TEST_CASE("the front runs the full program from its own directory only, and not when anyone else could have written it", "[lean]") {
    TempDir copy;
    std::string binary = copy_binary_and_module(copy);
    if (binary.empty()) GP_SKIP("this build is one executable (no front and full program: a sanitizer build)");
    const fs::path full = copy / "lib/ghostpod/ghostpod";
    VaultFixture v;
    auto secret_ls = [&](const RunOptions& options) { return run({binary, "--vault", v.vault, "--passphrase-fd", "3", "secret", "ls"}, options); };
    auto listed = secret_ls(v.options());
    INFO(listed.err);
    REQUIRE(listed.exit_code == 0);
    // Writable by the group.
    fs::permissions(full, fs::perms::group_write, fs::perm_options::add);
    auto writable = secret_ls(v.options());
    CHECK(writable.exit_code == 1);
    CHECK(contains(writable.err, "writable by no one else"));
    fs::permissions(full, fs::perms::group_write, fs::perm_options::remove);
    if (::geteuid() == 0) {
        REQUIRE(::chown(full.c_str(), 65534, 65534) == 0);
        auto planted = secret_ls(v.options());
        CHECK(planted.exit_code == 1);
        CHECK(contains(planted.err, "owned by root, by you or by ghostpod's owner"));
        REQUIRE(::chown(full.c_str(), 0, 0) == 0);
    }
    // A symbolic link in its place is not followed (it could lead anywhere).
    fs::rename(full, copy / "real-full");
    fs::create_symlink(copy / "real-full", full);
    auto linked = secret_ls(v.options());
    CHECK(linked.exit_code == 1);
    CHECK(contains(linked.err, "open " + full.string()));
    fs::remove(full);
    // Missing: no search of PATH (which here offers a working one) or of anything else.
    auto options = v.options();
    options.env["PATH"] = copy / "lib/ghostpod:" + std::string(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    fs::rename(copy / "real-full", copy / "lib/ghostpod/elsewhere");
    auto missing = secret_ls(options);
    CHECK(missing.exit_code == 1);
    CHECK(contains(missing.err, "secret ls: find ghostpod's full program"));
}

TEST_CASE("the front runs no program from a way someone else could have laid: a shared parent, a linked directory, itself", "[lean]") {
    if (!has_module()) GP_SKIP("this build is one executable (no front and full program: a sanitizer build)");
    VaultFixture v;
    TempDir base;
    auto secret_ls = [&](const std::string& front) { return run({front, "--vault", v.vault, "--passphrase-fd", "3", "secret", "ls"}, v.options()); };
    // A front alone in x/, below a directory anyone may write to (as /tmp): a program planted
    // at ../lib/ghostpod/ghostpod there (here one that would succeed) is not run.
    fs::permissions(base.path(), fs::perms(01777));
    fs::create_directories(base / "x");
    fs::permissions(base / "x", fs::perms(0755));
    fs::copy_file(ghostpod_binary(), base / "x/ghostpod");
    fs::create_directories(base / "lib/ghostpod");
    fs::copy_file("/bin/true", base / "lib/ghostpod/ghostpod");
    auto planted = secret_ls(base / "x/ghostpod");
    INFO(planted.err);
    CHECK(planted.exit_code == 1);
    CHECK(contains(planted.err, "find ghostpod's full program"));
    // Its lib/ is a symbolic link to a working full program: not followed either.
    fs::create_directory_symlink(fs::path(full_program()).parent_path().parent_path(), base / "x/lib");
    auto linked = secret_ls(base / "x/ghostpod");
    INFO(linked.err);
    CHECK(linked.exit_code == 1);
    CHECK(contains(linked.err, "find ghostpod's full program"));
    fs::remove(base / "x/lib");
    // The front itself in the full program's place (a hard link): refused, not exec'd in a loop.
    fs::create_directories(base / "x/lib/ghostpod");
    fs::create_hard_link(base / "x/ghostpod", base / "x/lib/ghostpod/ghostpod");
    auto itself = secret_ls(base / "x/ghostpod");
    INFO(itself.err);
    CHECK(itself.exit_code == 1);
    CHECK(contains(itself.err, "it is this program itself"));
    // The control: a real full program there runs.
    fs::remove(base / "x/lib/ghostpod/ghostpod");
    for (const char* name : {"ghostpod", "ghostpod-net.so"})
        fs::copy_file(fs::path(full_program()).parent_path() / name, fs::path(base / "x/lib/ghostpod") / name);
    auto works = secret_ls(base / "x/ghostpod");
    INFO(works.err);
    CHECK(works.exit_code == 0);
}

TEST_CASE("a module of another build is refused before any of its code is called", "[lean]") {
    TempDir copy;
    std::string binary = copy_binary_and_module(copy);
    if (binary.empty()) GP_SKIP("this build links the module's libraries directly (no ghostpod-net.so)");
    const fs::path module_path = copy / "lib/ghostpod/ghostpod-net.so";
    // The build token: a run of exactly 32 hex digits ending in NUL that the full program holds
    // too (not, say, the digit pairs table of std::to_chars).
    std::string module = read_bytes(module_path), exe = read_bytes(copy / "lib/ghostpod/ghostpod");
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
    write_text(module_path, module);
    fs::permissions(module_path, fs::perms::owner_all, fs::perm_options::replace);
    VaultFixture v;
    REQUIRE(v.set("note", "not a certificate").exit_code == 0);
    auto other = certs_with(v, binary);
    CHECK(other.exit_code == 1);
    CHECK(contains(other.err, "another build"));
}
