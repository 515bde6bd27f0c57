// Saving back from the ghost: edits and new files inside reach the vault through 'save' (from
// inside or outside) and through 'lock' with save_on_lock; a vault changed elsewhere is never
// overwritten unasked; a save killed half-way leaves the old or the new vault.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

nlohmann::json status_of(const VaultFixture& v) {
    auto r = v.gp({"status", "--json"});
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

std::uint64_t generation_of(const VaultFixture& v) { return status_of(v)["vault"]["generation"].get<std::uint64_t>(); }

void write_config(const VaultFixture& v, const std::string& json) {
    fs::create_directories(v.dir / ".config/ghostpod");
    std::ofstream(v.dir / ".config/ghostpod/config.json") << json;
}

// A session kept up with --linger so that several commands can use it.
void start_session(const VaultFixture& v) {
    auto r = v.gp({"run", "--linger", "10m", "--", "true"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(status_of(v)["session"].is_object());
}

// Runs a shell script in the session; $GP is the ghostpod binary. The session's seccomp filter
// refuses ptrace, which LeakSanitizer needs to stop the world at exit: in sanitizer builds the
// ghostpod run inside checks memory errors but not leaks (the same code is leak-checked outside).
RunResult inside(const VaultFixture& v, const std::string& script) {
    return v.gp({"run", "--", "sh", "-c", "GP=" + ghostpod_binary() + "; export ASAN_OPTIONS=detect_leaks=0; " + script});
}

}  // namespace

TEST_CASE("save from inside the ghost writes an edited mapped file and a new file to the vault", "[save]") {
    VaultFixture v;
    REQUIRE(v.set("kube/config", "old kubeconfig\n").exit_code == 0);
    start_session(v);
    std::uint64_t before = generation_of(v);
    auto r = inside(v, "chmod u+w ~/.kube/config && printf 'rotated\\nkubeconfig\\n' > ~/.kube/config && "
                       "mkdir -p \"$GHOSTPOD_DIR/notes\" && printf 'made inside' > \"$GHOSTPOD_DIR/notes/new.txt\" && "
                       "\"$GP\" save");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("saved 2 file(s)") != std::string::npos);
    CHECK(r.err.find("new in the vault: notes/new.txt") != std::string::npos);
    CHECK(r.err.find("rotated") == std::string::npos);  // names only, never values
    CHECK(r.err.find("removed in the ghost") == std::string::npos);
    CHECK(generation_of(v) == before + 1);
    REQUIRE(v.gp({"lock"}).exit_code == 0);
    CHECK(v.get("kube/config").out == "rotated\nkubeconfig\n");
    CHECK(v.get("notes/new.txt").out == "made inside");
    // The entry keeps its mode (0400) though the file was made writable to edit it.
    auto ls = nlohmann::json::parse(v.gp({"secret", "ls", "--json"}).out);
    for (const auto& e : ls) {
        if (e["name"] == "kube/config") CHECK(e["mode"] == "0400");
        if (e["name"] == "notes/new.txt") CHECK(e["source"] == "ghost:save");
    }
    // The next session starts with the saved contents.
    CHECK(v.gp({"run", "--", "cat", v.dir / ".kube/config"}).out == "rotated\nkubeconfig\n");
}

TEST_CASE("save with nothing changed writes nothing, removed files stay in the vault", "[save]") {
    VaultFixture v;
    REQUIRE(v.set("keep/me", "kept").exit_code == 0);
    REQUIRE(v.set("other", "x").exit_code == 0);
    start_session(v);
    std::uint64_t before = generation_of(v);
    auto same = v.gp({"save"});
    INFO(same.err);
    CHECK(same.exit_code == 0);
    CHECK(same.err.find("nothing to save") != std::string::npos);
    CHECK(generation_of(v) == before);
    REQUIRE(inside(v, "rm -f \"$GHOSTPOD_DIR/keep/me\"").exit_code == 0);
    auto removed = v.gp({"save", "--json"});
    REQUIRE(removed.exit_code == 0);
    auto j = nlohmann::json::parse(removed.out);
    CHECK(j["saved"].empty());
    CHECK(j["removed_in_ghost"] == nlohmann::json::array({"keep/me"}));
    CHECK(generation_of(v) == before);
    REQUIRE(v.gp({"lock"}).exit_code == 0);
    CHECK(v.get("keep/me").out == "kept");
}

TEST_CASE("save refuses with exit 7 when the vault changed elsewhere, and --force writes over it", "[save]") {
    VaultFixture v;
    REQUIRE(v.set("app/token", "v1").exit_code == 0);
    start_session(v);
    REQUIRE(inside(v, "chmod u+w \"$GHOSTPOD_DIR/app/token\" && printf v2-from-ghost > \"$GHOSTPOD_DIR/app/token\"").exit_code == 0);
    REQUIRE(v.set("elsewhere", "written outside").exit_code == 0);  // a newer generation on disk
    std::uint64_t newer = generation_of(v);
    auto refused = v.gp({"save"});
    CHECK(refused.exit_code == 7);
    CHECK(refused.err.find("changed elsewhere") != std::string::npos);
    CHECK(refused.err.find("--force") != std::string::npos);
    CHECK(generation_of(v) == newer);
    CHECK(v.get("app/token").out == "v1");
    auto forced = v.gp({"save", "--force"});
    INFO(forced.err);
    CHECK(forced.exit_code == 0);
    CHECK(v.get("app/token").out == "v2-from-ghost");
    CHECK(v.get("elsewhere").out == "written outside");
    // After the forced save the session holds the newest generation: a further edit saves plainly.
    REQUIRE(inside(v, "printf v3 > \"$GHOSTPOD_DIR/app/token\"").exit_code == 0);
    CHECK(v.gp({"save"}).exit_code == 0);
    CHECK(v.get("app/token").out == "v3");
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("save leaves pulled-secret names and ghostpod's own names out", "[save]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    start_session(v);
    REQUIRE(inside(v, "printf evil > \"$GHOSTPOD_DIR/infisical.client-secret\"").exit_code == 0);
    auto r = v.gp({"save"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("not saved: infisical.client-secret") != std::string::npos);
    // What save cannot keep still stops a plain lock: it would be lost.
    CHECK(v.gp({"lock"}).exit_code == 7);
    REQUIRE(v.gp({"lock", "--discard"}).exit_code == 0);
    CHECK(v.get("infisical.client-secret").exit_code != 0);
}

TEST_CASE("lock with save_on_lock saves, a conflict keeps the session up, --discard ends it unsaved", "[save]") {
    VaultFixture v;
    write_config(v, R"({"version": 1, "session": {"save_on_lock": true}})");
    REQUIRE(v.set("talos/config", "before\n").exit_code == 0);
    start_session(v);
    REQUIRE(inside(v, "chmod u+w ~/.talos/config && printf 'merged\\n' > ~/.talos/config").exit_code == 0);
    auto lock = v.gp({"lock"});
    INFO(lock.err);
    CHECK(lock.exit_code == 0);
    CHECK(v.get("talos/config").out == "merged\n");

    start_session(v);
    REQUIRE(inside(v, "chmod u+w ~/.talos/config && printf 'second\\n' > ~/.talos/config").exit_code == 0);
    REQUIRE(v.set("elsewhere", "y").exit_code == 0);
    auto refused = v.gp({"lock"});
    CHECK(refused.exit_code == 7);
    CHECK(refused.err.find("--discard") != std::string::npos);
    CHECK(status_of(v)["session"].is_object());  // still up, nothing lost
    CHECK(v.get("talos/config").out == "merged\n");
    CHECK(v.gp({"lock", "--discard"}).exit_code == 0);
    CHECK_FALSE(status_of(v)["session"].is_object());
    CHECK(v.get("talos/config").out == "merged\n");
}

TEST_CASE("a save killed at any moment leaves the old or the new vault, never a broken one", "[save]") {
    VaultFixture v;
    std::string old_value(4u << 20, 'o');
    REQUIRE(v.set("big", old_value).exit_code == 0);
    int outcomes_old = 0, outcomes_new = 0;
    for (int trial = 0; trial < 6; ++trial) {
        start_session(v);
        auto s = status_of(v)["session"];
        REQUIRE(inside(v, "chmod u+w \"$GHOSTPOD_DIR/big\" && head -c 4194304 /dev/zero | tr '\\0' n > \"$GHOSTPOD_DIR/big\"").exit_code == 0);
        pid_t saver = ::fork();
        REQUIRE(saver >= 0);
        if (saver == 0) {
            auto o = v.options();
            (void)run(gp(v.vault, {"save"}), o);
            ::_exit(0);
        }
        // Spread the kills from before the write to after the rename.
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + trial * 40));
        ::kill(s["holder_pid"].get<pid_t>(), SIGKILL);
        ::waitpid(saver, nullptr, 0);
        auto got = v.get("big");
        INFO("trial " << trial << ": " << got.err);
        REQUIRE(got.exit_code == 0);
        bool is_old = got.out == old_value, is_new = got.out == std::string(4u << 20, 'n');
        CHECK((is_old || is_new));
        outcomes_old += is_old;
        outcomes_new += is_new;
        if (is_new) REQUIRE(v.set("big", old_value).exit_code == 0);
        // Wait for the killed session's ghost to be gone before the next one.
        for (int i = 0; i < 100 && status_of(v)["session"].is_object(); ++i) std::this_thread::sleep_for(20ms);
    }
    INFO("old " << outcomes_old << ", new " << outcomes_new);
    CHECK(outcomes_old + outcomes_new == 6);
}

TEST_CASE("certs and shell report the ghost's certificates while a session runs", "[save][certs]") {
    VaultFixture v;
    auto cert = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "5",
                     "-subj", "/CN=soon-to-expire", "-keyout", "/dev/null", "-out", "-"});
    REQUIRE(cert.exit_code == 0);
    REQUIRE(v.set("pki/client.crt", cert.out).exit_code == 0);
    start_session(v);
    auto certs = v.gp({"certs", "--json"});
    INFO(certs.err);
    CHECK(certs.exit_code == 6);
    auto j = nlohmann::json::parse(certs.out);
    REQUIRE(j.size() == 1);
    CHECK(j[0]["source"].get<std::string>().rfind("ghost:pki/client.crt", 0) == 0);
    auto o = v.options();
    o.env["SHELL"] = "/bin/true";
    auto shell = v.gp_with({"shell"}, o);
    CHECK(shell.exit_code == 0);
    CHECK(shell.err.find("1 certificate(s) expire within 30 days") != std::string::npos);
    CHECK(shell.err.find("CN=soon-to-expire") != std::string::npos);
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}
