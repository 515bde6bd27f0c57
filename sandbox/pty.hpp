// Pseudo-terminals for commands in the ghost, as sudo's use_pty and systemd-run --pty give
// them: the command's terminal is a pty of its own whose master the client relays, so nothing
// in the ghost holds the user's terminal. This file opens the pair, copies modes and sizes,
// holds the user's terminal in raw mode, and takes the process-group steps that make the pty
// a controlling terminal. The data relay itself is the client's (pod/session/terminal_relay).
#pragma once

#include <termios.h>

#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {

struct Pty {
    UniqueFd master;  // the relay's end: O_NONBLOCK, O_CLOEXEC
    UniqueFd slave;   // the command's terminal: O_CLOEXEC (dup2 onto 0-2 clears it there)
};

// A new pair from /dev/ptmx of the caller's mount namespace (the ghost's own devpts once the
// caller has joined it), unlocked, with the slave opened through the master (TIOCGPTPEER), so
// no path under /dev/pts is looked up. devpts gives the slave to the opener: no grantpt.
Result<Pty> open_pty();

// The modes and window size of `from` (the user's terminal) onto the pty behind `to` (either
// end: mode and size ioctls on a master act on its slave).
Status copy_terminal(int from, int to);
// Only the window size; a change makes the kernel send SIGWINCH to the pty's foreground group.
Status copy_window_size(int from, int to);

// The user's terminal in raw mode while this lives: no echo, no line editing, no signals from
// keys (Ctrl-C, Ctrl-Z reach the pty as bytes and its line discipline signals the command),
// no flow control. Output processing stays on when `keep_output_processing` (something besides
// the relay writes to the terminal, e.g. a pager reading the command's piped stdout).
// Restores the saved modes on destruction or restore(), draining output first.
class RawMode {
public:
    RawMode() = default;
    static Result<RawMode> enter(int fd, bool keep_output_processing);
    RawMode(RawMode&& other) noexcept : fd_(other.fd_), saved_(other.saved_) { other.fd_ = -1; }
    RawMode& operator=(RawMode&& other) noexcept;
    RawMode(const RawMode&) = delete;
    RawMode& operator=(const RawMode&) = delete;
    ~RawMode() { restore(); }
    bool active() const { return fd_ >= 0; }
    void restore();

private:
    int fd_ = -1;
    struct termios saved_ {};
};

// Whether the caller's process group is the foreground group of terminal `fd`.
bool in_foreground(int fd);

// The caller becomes the leader of a new session whose controlling terminal is `tty` (setsid +
// TIOCSCTTY). Then no process it starts shares the user's session or terminal.
Status lead_terminal_session(int tty);
// The caller becomes a process group of its own and the foreground group of `tty`, its
// session's controlling terminal (run by a child of the session leader, so the group has a
// parent in its session but outside the group: not orphaned, and Ctrl-Z stops it).
Status become_foreground_job(int tty);
// The caller becomes the leader of a new session without a controlling terminal: opening
// /dev/tty fails, and no terminal's foreground can be taken.
Status leave_terminal_session();

}  // namespace ghostpod::sandbox
