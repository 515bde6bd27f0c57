// `ghostpod pull` in a running session: it refreshes and returns (a command after -- is run,
// a shell never is), says by name what changed, and infisical.refresh makes the holder refresh
// on its own. The real binary against the fake Infisical server over TLS on 127.0.0.1.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/infisical_server.hpp"
#include "tests/support/infisical_setup.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A vault with the identity, a config naming the server (plus `infisical`), and a session
// started by `pull --no-shell`.
struct Session {
    VaultFixture v;
    std::string config = v.dir / "config.json";

    Session(const FakeInfisical& server, const json& infisical = json::object()) {
        prepare_pull(v, server, config, {{"infisical", infisical}});
        auto started = gp({"pull", "--no-shell"});
        INFO(started.err);
        REQUIRE(started.exit_code == 0);
    }
    ~Session() { (void)gp({"lock"}); }

    RunOptions options() const {
        RunOptions o = pull_options(v, config);
        o.env["SHELL"] = "/bin/sh";  // the shell a pull would open: one that reads its stdin
        return o;
    }
    RunResult gp(const std::vector<std::string>& args) const { return v.gp_with(args, options()); }
    RunResult in_ghost(const std::string& script) const { return gp({"run", "--", "sh", "-c", script}); }
};

// Polls `probe` every 200 ms until it holds or `limit` passes.
bool eventually(std::chrono::seconds limit, const std::function<bool()>& probe) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (probe()) return true;
        std::this_thread::sleep_for(200ms);
    }
    return probe();
}

std::size_t listings(const FakeInfisical& server) {
    std::size_t n = 0;
    for (const auto& e : server.log())
        if (e.value("route", "") == "secrets" || e.value("route", "") == "secret") ++n;
    return n;
}

}  // namespace

TEST_CASE("pull in a running session refreshes, names what was added, changed and removed, and opens no shell",
          "[pull][refresh]") {
    FakeInfisical server(one_folder_world({{"KEEP", "same-value"}, {"CHANGE", "old-value"}, {"DROP", "dropped-value"}}));
    Session s(server);
    server.set_world(one_folder_world({{"KEEP", "same-value"}, {"CHANGE", "new-value"}, {"ADD", "added-value"}}));
    auto r = s.gp({"pull"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "refreshed: 1 added (infisical/ADD), 1 changed (infisical/CHANGE), 1 removed (infisical/DROP)\n");
    for (const char* value : {"same-value", "new-value", "added-value", "old-value", "dropped-value"}) {
        CHECK_FALSE(contains(r.out, value));
        CHECK_FALSE(contains(r.err, value));
    }
    auto now = s.in_ghost("cd \"$GHOSTPOD_DIR/infisical\" && ls && cat CHANGE ADD");
    CHECK(now.out == "ADD\nCHANGE\nKEEP\nnew-valueadded-value");
    auto again = s.gp({"pull"});
    CHECK(again.out == "refreshed: 0 added, 0 changed, 0 removed\n");
}

TEST_CASE("pull --json in a running session lists the added, changed and removed names", "[pull][refresh]") {
    FakeInfisical server(one_folder_world({{"CHANGE", "v1"}, {"DROP", "x"}}));
    Session s(server);
    server.set_world(one_folder_world({{"CHANGE", "v2"}, {"ADD_A", "a"}, {"ADD_B", "b"}}));
    auto r = s.gp({"pull", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    json j = json::parse(r.out);
    CHECK(j["added"] == json::array({"infisical/ADD_A", "infisical/ADD_B"}));
    CHECK(j["changed"] == json::array({"infisical/CHANGE"}));
    CHECK(j["removed"] == json::array({"infisical/DROP"}));
    CHECK(j["session_started"] == false);
    CHECK(j["secrets"] == 3);
}

TEST_CASE("a script that runs pull in a running session goes on outside the ghost: no shell reads the rest of it",
          "[pull][refresh]") {
    FakeInfisical server(one_folder_world({{"KEY", "v1"}}));
    Session s(server);
    server.set_world(one_folder_world({{"KEY", "v2"}}));
    // bash reading its script from stdin, as `curl … | bash` or a heredoc does: a shell the pull
    // opened would inherit that stdin, read the next line and run it inside the ghost.
    std::string script = "'" + ghostpod_binary() + "' --vault '" + s.v.vault + "' pull\n" +
                         "echo \"line 2 ran ${GHOSTPOD_DIR:-outside the ghost}\"\n" + "echo line 3 ran\n";
    RunOptions o = s.options();
    o.stdin_data = script;
    auto r = run({"/bin/bash", "-s"}, o);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "refreshed: 0 added, 1 changed (infisical/KEY), 0 removed\nline 2 ran outside the ghost\nline 3 ran\n");
    CHECK(s.in_ghost("cat \"$GHOSTPOD_DIR/infisical/KEY\"").out == "v2");
}

TEST_CASE("pull -- CMD in a running session refreshes and then runs CMD in the ghost", "[pull][refresh]") {
    FakeInfisical server(one_folder_world({{"KEY", "v1"}}));
    Session s(server);
    server.set_world(one_folder_world({{"KEY", "v2"}}));
    auto r = s.gp({"pull", "--", "sh", "-c", "cat \"$GHOSTPOD_DIR/infisical/KEY\""});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "refreshed: 0 added, 1 changed (infisical/KEY), 0 removed\nv2");
}

TEST_CASE("pull from a shell inside the ghost refreshes the session and returns", "[pull][refresh][inside]") {
    FakeInfisical server(one_folder_world({{"KEY", "v1"}}));
    Session s(server);
    server.set_world(one_folder_world({{"KEY", "v2"}, {"NEW", "n"}}));
    auto r = s.in_ghost("'" + ghostpod_binary() + "' pull && echo returned && cat \"$GHOSTPOD_DIR/infisical/KEY\"");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "refreshed: 1 added (infisical/NEW), 1 changed (infisical/KEY), 0 removed\nreturned\nv2");
}

TEST_CASE("with infisical.refresh the session takes a changed secret without any command", "[pull][refresh][timer]") {
    FakeInfisical server(one_folder_world({{"KEY", "before"}}));
    Session s(server, {{"refresh", "10s"}});
    std::size_t pulls = listings(server);
    server.set_world(one_folder_world({{"KEY", "after"}}));
    // Nothing asks for a pull: the holder's timer does (looked at through run, which never pulls).
    CHECK(eventually(25s, [&] { return listings(server) > pulls; }));
    CHECK(eventually(5s, [&] { return s.in_ghost("cat \"$GHOSTPOD_DIR/infisical/KEY\"").out == "after"; }));
    auto status = json::parse(s.gp({"status", "--json"}).out);
    CHECK(status["session"]["refresh"]["every"] == 10);
    CHECK(status["session"]["refresh"]["refreshes"].get<int>() >= 1);
    CHECK(status["session"]["refresh"]["failures"] == 0);
}

TEST_CASE("a timed refresh that fails keeps the ghost's contents and is tried again", "[pull][refresh][timer]") {
    FakeInfisical server(one_folder_world({{"KEY", "kept"}}));
    Session s(server, {{"refresh", "10s"}, {"retry_for", "1s"}});
    server.set_faults({"500:secrets:0"});
    server.set_world(one_folder_world({{"KEY", "never-seen"}}));
    auto failed = [&] {
        auto status = s.gp({"status", "--json"});
        return status.exit_code == 0 && json::parse(status.out)["session"].contains("refresh") &&
               json::parse(status.out)["session"]["refresh"]["failures"].get<int>() >= 1;
    };
    REQUIRE(eventually(25s, failed));
    CHECK(s.in_ghost("cat \"$GHOSTPOD_DIR/infisical/KEY\"").out == "kept");
    auto status = json::parse(s.gp({"status", "--json"}).out);
    CHECK(contains(status["session"]["refresh"].value("last_error", ""), "500"));
    CHECK(status["session"]["pull"]["secrets"] == 1);
    // The server answers again: the next interval swaps the new value in.
    server.set_faults({});
    CHECK(eventually(25s, [&] { return s.in_ghost("cat \"$GHOSTPOD_DIR/infisical/KEY\"").out == "never-seen"; }));
}

TEST_CASE("infisical.refresh shorter than 10s or not a duration is refused naming the key", "[pull][refresh]") {
    FakeInfisical server(one_folder_world({{"KEY", "v"}}));
    VaultFixture v;
    std::string config = v.dir / "config.json";
    for (const json& bad : {json("5s"), json("soon"), json(3)}) {
        prepare_pull(v, server, config, {{"infisical", {{"refresh", bad}}}});
        auto r = v.gp_with({"pull", "--no-shell"}, pull_options(v, config));
        INFO(bad.dump() << ": " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, "infisical.refresh"));
    }
    CHECK(listings(server) == 0);
}
