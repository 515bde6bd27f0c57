#include "tests/support/tmux.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

namespace ghostpod::test {

using namespace std::chrono_literals;

RunResult Tmux::cmd(std::vector<std::string> args) const {
    args.insert(args.begin(), {"tmux", "-L", socket});
    return run(args, options);
}

std::string Tmux::screen() const { return cmd({"capture-pane", "-p", "-t", "gp"}).out; }

void Tmux::keys(const std::string& text, bool enter) const {
    cmd({"send-keys", "-t", "gp", "-l", text});
    if (enter) cmd({"send-keys", "-t", "gp", "Enter"});
}

void Tmux::key(const std::string& name) const { cmd({"send-keys", "-t", "gp", name}); }

bool Tmux::shows(const std::string& text) const {
    for (int i = 0; i < 100; ++i) {
        if (screen().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

bool Tmux::shell_in_foreground() const {
    for (int i = 0; i < 200; ++i) {
        auto current = cmd({"display-message", "-p", "-t", "gp", "#{pane_current_command}"});
        if (current.exit_code == 0 && current.out == "bash\n") return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

Tmux::~Tmux() { cmd({"kill-server"}); }

void start_shell(Tmux& t, const VaultFixture& v, const std::string& extra_env) {
    if (run({"tmux", "-V"}).exit_code != 0) FAIL("tmux is not installed (scripts/install-deps.sh installs it)");
    t.options = v.options();
    t.options.fd_data.clear();
    std::string shell = "env -i PATH=/usr/bin:/bin TERM=xterm HOME='" + v.dir.path() + "' SHELL=/bin/bash PS1='$ ' " +
                        "bash --norc --noprofile -i";
    REQUIRE(t.cmd({"new-session", "-d", "-s", "gp", "-x", "150", "-y", "40", shell}).exit_code == 0);
    t.keys("gp() { " + extra_env + " '" + ghostpod_binary() + "' --vault '" + v.vault + "' \"$@\"; }; echo ready-$((40+2))");
    REQUIRE(t.shows("ready-42"));
}

}  // namespace ghostpod::test
