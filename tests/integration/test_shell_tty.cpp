// An interactive shell in the ghost on a real terminal (tmux): job control works, Ctrl-C
// reaches the foreground job only, and the terminal is handed back when the shell exits.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
using namespace std::chrono_literals;

namespace {

struct Tmux {
    std::string socket = random_marker("gp-tmux-");
    RunOptions options;

    RunResult cmd(std::vector<std::string> args) const {
        args.insert(args.begin(), {"tmux", "-L", socket});
        return run(args, options);
    }
    std::string screen() const { return cmd({"capture-pane", "-p", "-t", "gp"}).out; }
    void keys(const std::string& text, bool enter = true) const {
        cmd({"send-keys", "-t", "gp", "-l", text});
        if (enter) cmd({"send-keys", "-t", "gp", "Enter"});
    }
    // Waits up to 5 s for `text` to appear on the screen.
    bool shows(const std::string& text) const {
        for (int i = 0; i < 100; ++i) {
            if (screen().find(text) != std::string::npos) return true;
            std::this_thread::sleep_for(50ms);
        }
        return false;
    }
    ~Tmux() { cmd({"kill-server"}); }
};

}  // namespace

TEST_CASE("an enter shell on a terminal has job control and survives Ctrl-C", "[session][tty]") {
    if (run({"tmux", "-V"}).exit_code != 0) FAIL("tmux is not installed (scripts/install-deps.sh installs it)");
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    REQUIRE(v.gp({"run", "--linger", "5m", "--", "true"}).exit_code == 0);
    Tmux t;
    t.options = v.options();
    t.options.fd_data.clear();
    std::string command = "env -i PATH=/usr/bin:/bin TERM=xterm HOME='" + v.dir.path() + "' SHELL=/bin/bash " +
                          ghostpod_binary() + " --vault '" + v.vault + "' enter; echo \"enter-exit=\\$?\"; sleep 30";
    REQUIRE(t.cmd({"new-session", "-d", "-s", "gp", "-x", "150", "-y", "40", "bash --norc --noprofile -c \"" + command + "\""}).exit_code == 0);
    // Markers are computed by the shell, so the typed command line never matches them.
    t.keys("echo ready-$((40+2))");
    REQUIRE(t.shows("ready-42"));
    t.keys("[[ -o monitor ]] && echo monitor-$((1+1)); sleep 300 & jobs");
    CHECK(t.shows("[1]+  Running"));
    CHECK(t.shows("monitor-2"));
    t.keys("sleep 301");
    std::this_thread::sleep_for(300ms);
    t.cmd({"send-keys", "-t", "gp", "C-c"});
    t.keys("echo still-here-$((GHOSTPOD_SESSION+6))");
    CHECK(t.shows("still-here-7"));
    t.keys("kill %1; exit 4");
    INFO(t.screen());
    CHECK(t.shows("enter-exit=4"));
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}
