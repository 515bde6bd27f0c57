// ghostpod run from inside the ghost: a command in the session (no capabilities, no_new_privs,
// seccomp) runs ghostpod itself. run and enter join without entering again the namespaces they
// are in; run --profile narrows (ghost init builds the view); status, save and lock act on this
// session. The threat-model tests check that a profile cannot widen its view this way.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <thread>
#include <string>

#include "tests/support/session.hpp"
#include "tests/support/tmux.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& text) {
    std::string q = "'";
    for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// `ghostpod ARGS` as a shell word list, for scripts run in the ghost (which finds the session
// through GHOSTPOD_VAULT and the config through GHOSTPOD_CONFIG).
std::string gp_inside(const std::string& args) { return quote(ghostpod_binary()) + " " + args; }

}  // namespace

TEST_CASE("ghostpod run, enter and status work from a command in the session, in its own namespaces", "[session][inside]") {
    VaultFixture v;
    std::string kube = random_marker("kube-");
    REQUIRE(v.set("kube/config", kube).exit_code == 0);
    start_lingering_session(v, unique_sleep());
    auto outside = v.gp({"run", "--", "sh", "-c", "readlink /proc/self/ns/mnt /proc/self/ns/pid"});
    REQUIRE(outside.exit_code == 0);
    SECTION("run joins nothing again: same mount and pid namespaces, the secrets, the exit code") {
        auto r = v.gp({"run", "--", "sh", "-c",
                       gp_inside("run -- sh -c 'cat ~/.kube/config; echo; readlink /proc/self/ns/mnt /proc/self/ns/pid; exit 7'") +
                           "; echo rc=$?"});
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.out == kube + "\n" + outside.out + "rc=7\n");
    }
    SECTION("enter opens a shell in the session") {
        RunOptions o = v.options("cat ~/.kube/config; echo \" $GHOSTPOD_SESSION\"\n");
        o.env["SHELL"] = "/bin/sh";
        auto r = v.gp_with({"run", "--", "sh", "-c", gp_inside("enter")}, o);
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.out == kube + " vault=vault;profile=*\n");
    }
    SECTION("status sees this session") {
        auto r = v.gp({"run", "--", "sh", "-c", gp_inside("status --json")});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        auto s = nlohmann::json::parse(r.out);
        CHECK(s["session"]["ghost_pid"] == status_of(v)["session"]["ghost_pid"]);
        CHECK(s["session"]["secrets"] == 1);
    }
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("ghostpod run --profile from a command in the session narrows to the profile", "[session][inside][profile]") {
    ProfileVault p("api/token", R"({"api/token": {"env": "API_TOKEN", "env_value": true}})");
    const VaultFixture& v = p.v;
    const RunOptions& o = p.options;
    start_lingering_session(v, unique_sleep(), o);
    auto full = v.gp_with({"run", "--", "sh", "-c", "readlink /proc/self/ns/pid; echo \"$API_TOKEN\""}, o);
    REQUIRE(full.out.find(p.other) != std::string::npos);
    auto inside = [&](const std::string& script) {
        auto r = v.gp_with({"run", "--", "sh", "-c", script}, o);
        INFO(r.err);
        return r;
    };
    SECTION("only the profile's secrets, in a pid namespace of its own, with the exit code passed on") {
        auto r = inside(gp_inside("run --profile terraform -- sh -c " +
                                  quote("cat ~/.aws/credentials; echo; env; readlink /proc/self/ns/pid; "
                                        "cat ~/.kube/config \"$GHOSTPOD_DIR/kube/config\" \"$GHOSTPOD_DIR/api/token\" 2>/dev/null; "
                                        "test -e ~/.kube && echo kube-dir-visible; exit 9")) +
                        "; echo rc=$?");
        CHECK(r.out.rfind(p.aws + "\n", 0) == 0);
        CHECK(r.out.find("AWS_SHARED_CREDENTIALS_FILE=") != std::string::npos);
        CHECK_FALSE(contains(r.out, p.kube));
        CHECK_FALSE(contains(r.out, p.other));
        CHECK(r.out.find("API_TOKEN") == std::string::npos);
        CHECK(r.out.find("KUBECONFIG") == std::string::npos);
        CHECK(r.out.find("kube-dir-visible") == std::string::npos);
        CHECK(r.out.find(full.out.substr(0, full.out.find('\n') + 1)) == std::string::npos);  // not the ghost's pid ns
        CHECK(r.out.find("rc=9\n") != std::string::npos);
    }
    SECTION("stdin reaches the command and a missing command exits 127 with the reason") {
        RunOptions with_input = o;
        with_input.stdin_data = "from stdin\n";
        auto r = v.gp_with({"run", "--", "sh", "-c", gp_inside("run --profile terraform -- cat") + "; " +
                                                          gp_inside("run --profile terraform -- no-such-tool-here") + "; echo rc=$?"},
                           with_input);
        INFO(r.err);
        CHECK(r.out == "from stdin\nrc=127\n");
        CHECK(contains(r.err, "no-such-tool-here"));
    }
    SECTION("a signal to ghostpod reaches the command") {
        // A directory on disk: the command's view shadows ~ (for ~/.aws), but this stays real.
        std::string dir = v.dir / "signal";
        fs::create_directories(dir);
        auto r = inside(gp_inside("run --profile terraform -- sh -c " +
                                  quote("trap 'echo got-term; exit 3' TERM; touch " + dir + "/started; while :; do sleep 0.1; done")) +
                        " & for i in $(seq 300); do test -e " + dir + "/started && break; sleep 0.1; done; kill -TERM $!; wait $!; echo rc=$?");
        CHECK(r.out == "got-term\nrc=3\n");
    }
    REQUIRE(v.gp_with({"lock"}, o).exit_code == 0);
}

TEST_CASE("save and lock from a command in the session act on this session", "[session][inside]") {
    VaultFixture v;
    REQUIRE(v.set("kube/config", "old").exit_code == 0);
    start_lingering_session(v, unique_sleep());
    auto saved = v.gp({"run", "--", "sh", "-c",
                       "printf new-in-ghost > \"$GHOSTPOD_DIR/made-inside\" && " + gp_inside("save")});
    INFO(saved.err);
    CHECK(saved.exit_code == 0);
    CHECK(v.get("made-inside").out == "new-in-ghost");
    // lock ends the session, and with it the command that asked (it ran in the ghost).
    auto locked = v.gp({"run", "--", "sh", "-c", gp_inside("lock") + "; echo survived"});
    CHECK(locked.out.find("survived") == std::string::npos);
    CHECK(status_of(v)["session"].is_null());
}

TEST_CASE("a profile started from inside inherits no value the full view put in an allowed variable", "[session][inside][profile]") {
    // NO_COLOR is passed on from the caller; in the full ghost it holds the secret (mapped).
    ProfileVault p("api/token", R"({"api/token": {"env": "NO_COLOR", "env_value": true}})");
    start_lingering_session(p.v, unique_sleep(), p.options);
    auto full = p.v.gp_with({"run", "--", "sh", "-c", "echo \"$NO_COLOR\""}, p.options);
    REQUIRE(full.out == p.other + "\n");
    auto r = p.v.gp_with({"run", "--", "sh", "-c", gp_inside("run --profile terraform -- env")}, p.options);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("AWS_SHARED_CREDENTIALS_FILE=") != std::string::npos);
    CHECK_FALSE(contains(r.out, p.other));
    REQUIRE(p.v.gp_with({"lock"}, p.options).exit_code == 0);
}

TEST_CASE("on a terminal in a ghost shell: run and run --profile work, and Ctrl-C reaches a profile's command",
          "[session][inside][profile][tty]") {
    ProfileVault p("api/token");
    start_lingering_session(p.v, unique_sleep(), p.options);
    Tmux t;
    start_shell(t, p.v, "GHOSTPOD_CONFIG='" + p.options.env.at("GHOSTPOD_CONFIG") + "'");
    t.keys("gp shell");
    t.keys("echo in-ghost-$((40+2))");
    REQUIRE(t.shows("in-ghost-42"));
    std::string gp = "'" + ghostpod_binary() + "'";
    t.keys(gp + " run -- sh -c 'echo full-$((1+1)); cat ~/.kube/config; echo'");
    bool full = t.shows("full-2");
    INFO(t.screen());
    CHECK(full);
    CHECK(t.shows(p.kube));
    t.keys(gp + " run --profile terraform -- sh -c 'echo prof-$((1+2)); cat ~/.aws/credentials ~/.kube/config; echo'");
    CHECK(t.shows("prof-3"));
    CHECK(t.shows(p.aws));
    CHECK(t.shows(".kube/config: No such file"));  // not in the profile's view
    // A plain run from inside shares the shell's terminal: Ctrl-C reaches its command.
    t.keys(gp + " run -- sleep 301");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    t.key("C-c");
    t.keys("echo rc-$?-$((2+3))");
    CHECK(t.shows("rc-130-5"));
    t.keys(gp + " run --profile terraform -- sleep 300");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    t.key("C-c");
    t.keys("echo rc-$?-$((2+2))");
    CHECK(t.shows("rc-130-4"));
    INFO(t.screen());
    t.keys("exit");
    // The shell's new ~/.bash_history lives in the ghost's shadow of HOME: a plain lock refuses.
    REQUIRE(p.v.gp_with({"lock", "--discard"}, p.options).exit_code == 0);
}
