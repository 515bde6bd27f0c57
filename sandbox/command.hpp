// The last steps of a command started in the ghost, top to bottom as bubblewrap takes them:
// working directory, signal dispositions and mask, its place among sessions and terminals, no
// core dumps, no capabilities, no_new_privs, a Landlock domain of its own (sandbox/landlock.hpp),
// the seccomp filter, no descriptor beyond 0-2, exec.
#pragma once

#include <string>
#include <vector>

#include "vault/result.hpp"

namespace ghostpod::sandbox {

// Where the command stands among sessions and terminals. Never in the user's session: from
// there it could open /dev/tty and take the user's terminal's foreground (tcsetpgrp).
enum class TerminalStep {
    new_session,     // setsid: a session of its own without a controlling terminal
    new_group,       // setpgid: a group of its own in its parent's session (which has left the user's)
    foreground_job,  // setpgid + tcsetpgrp: the foreground group of the pty its parent's session
                     // controls (that pty is on one of fds 0-2)
    same_group,      // none: the caller's group and terminal (a command run from inside the
                     // ghost, whose terminal is already one of the ghost's ptys)
};

struct CommandSpec {
    std::vector<std::string> argv;  // argv[0] is looked up in PATH of `envp`
    char* const* envp = nullptr;    // the command's whole environment (the caller owns it)
    std::string cwd;                // where the user was; else $HOME, else /
    TerminalStep terminal = TerminalStep::new_session;
    int report_fd = -1;             // kept open (close-on-exec) for the caller to report a failure on
};

// Runs the sequence and execs. Returns only on failure, with the step that failed; the caller
// exits 127 when the error's errno is ENOENT (no such command), else 126.
Error exec_command(const CommandSpec& spec);

}  // namespace ghostpod::sandbox
