// The client's side of a command in the ghost: which of its descriptors are the user's
// terminal, and the loop that waits for the command, passes signals and job-control stops on,
// and (when the user is on a terminal) relays between that terminal and the command's pty.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "pod/session/output_mask.hpp"
#include "sandbox/pty.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

// What the client's fds 0-2 are. Every one that is a terminal gets the pty's slave instead:
// the user's terminal itself never reaches the ghost. Other descriptors (pipes, files) pass
// through to the command as they are, byte for byte.
struct UserTerminal {
    bool is_terminal[3] = {false, false, false};
    int modes_fd = -1;   // whose modes and size the pty copies: stdin if a terminal, else stdout, else stderr
    int output_fd = -1;  // where the pty's output goes: stdout if a terminal, else stderr, else stdin
    // Keys go to the pty (the user's terminal in raw mode) only when stdin is the terminal and
    // stdout is not a pipe or socket, as sudo does: a pager at the other end of the pipe reads
    // the terminal itself and must get its keys and keep its modes.
    bool relay_input = false;
    bool keep_output_processing = false;  // stdout is not the terminal: others write to it
    bool any() const { return modes_fd >= 0; }
};
UserTerminal find_user_terminal();

// Signals the client takes through a signalfd while a command runs; blocked from before the
// fork, so none is lost (the child unblocks them).
sigset_t supervised_signals();

// How the client reaches the command: its child is the command itself (no pty), or a process
// of ours that leads the pty's session or the profile's pid namespace and passes signals and
// stops on.
struct CommandChild {
    pid_t pid = -1;
    bool is_command = false;
    bool shares_group = false;  // in our process group: a terminal's signals reach it by themselves
};

// Waits for `child` to exit and returns its status (128+N for signal N). Meanwhile: SIGINT,
// SIGQUIT, SIGTERM, SIGHUP and SIGTSTP the client receives go to the child; when the child
// stops, the client restores the user's terminal and stops its own process group; on SIGCONT it
// takes the terminal back and continues the child. With a pty, output of the master goes to the
// user's terminal and (relay_input) keys go to the master; SIGWINCH resizes the pty. The relay
// ends when the child exits, after draining what the master holds; closing the master then
// hangs up what is left on the pty (reads and writes there fail with EIO). `master` is invalid
// without a pty. Restores `previous_mask` (blocked before the fork) at the end. With `mask`
// (run --mask), the pty's output and the command's piped stdout and stderr pass through it.
int supervise(CommandChild child, const sigset_t& previous_mask, const UserTerminal& terminal, UniqueFd master,
              MaskedOutput* mask = nullptr);

}  // namespace ghostpod
