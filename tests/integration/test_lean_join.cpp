// What the join path loads (issue 16): run, enter, status, lock and --version map none of the
// libraries only pulls and certificate parsing use (libcurl and its tree, OpenSSL, yaml-cpp,
// zlib, libseccomp); those live in the lazily loaded module (pod/net_module.cpp), which the
// holder loads. Seen through the dynamic loader's own log (LD_DEBUG=files, one file a process).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/session.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kHeavy = {"ghostpod-net", "libcurl", "libssl", "libcrypto", "libyaml-cpp", "libz.so",
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

std::string heavy_in(const std::string& loaded) {
    std::string found;
    for (const auto& name : kHeavy)
        if (contains(loaded, name)) found += name + " ";
    return found;
}

}  // namespace

TEST_CASE("joining a session with run, enter, status and lock loads no network or parsing library", "[lean]") {
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
    VaultFixture v;
    TempDir logs;
    std::string loaded;
    auto r = logged(v, {"run", "--linger", "0", "--", "true"}, logs / "ld", loaded, v.options());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // The holder compiles the session's seccomp program with libseccomp, from the module.
    CHECK(contains(loaded, "ghostpod-net"));
    CHECK(contains(loaded, "libseccomp"));
    v.gp({"lock"});
}
