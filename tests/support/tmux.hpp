// A real terminal for tests: a tmux server of the test's own, one pane whose screen and keys
// the test drives. The pane runs an interactive bash with job control ("$ " prompt) and a
// function `gp` that runs ghostpod on the fixture's vault.
#pragma once

#include <string>
#include <vector>

#include "tests/support/vault_fixture.hpp"

namespace ghostpod::test {

struct Tmux {
    std::string socket = random_marker("gp-tmux-");
    RunOptions options;

    RunResult cmd(std::vector<std::string> args) const;
    std::string screen() const;
    void keys(const std::string& text, bool enter = true) const;
    void key(const std::string& name) const;  // a tmux key name: C-c, C-z, Enter
    // Waits up to 5 s for `text` to appear on the screen.
    bool shows(const std::string& text) const;
    // Waits up to 10 s until the pane's shell has its terminal back (no command in the
    // foreground): keys typed before then would go to the command still running.
    bool shell_in_foreground() const;
    ~Tmux();
};

// Starts a pane with an interactive bash in `v`'s directory (HOME), `gp` defined as ghostpod
// on `v`'s vault with `extra_env` (e.g. "GHOSTPOD_CONFIG=/path"); FAILs without tmux.
void start_shell(Tmux& t, const VaultFixture& v, const std::string& extra_env = "");

}  // namespace ghostpod::test
