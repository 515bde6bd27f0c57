#include "sandbox/pty.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace ghostpod::sandbox {

Result<Pty> open_pty() {
    Pty pty;
    pty.master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
    if (!pty.master.valid()) return sys_error("open /dev/ptmx");
    int unlock = 0;
    if (::ioctl(pty.master.get(), TIOCSPTLCK, &unlock) != 0) return sys_error("unlock the pty (TIOCSPTLCK)");
    pty.slave.reset(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.slave.valid()) return sys_error("open the pty's slave (TIOCGPTPEER)");
    return pty;
}

Status copy_window_size(int from, int to) {
    struct winsize size {};
    if (::ioctl(from, TIOCGWINSZ, &size) != 0) return sys_error("read the terminal's window size (TIOCGWINSZ)");
    if (::ioctl(to, TIOCSWINSZ, &size) != 0) return sys_error("set the pty's window size (TIOCSWINSZ)");
    return {};
}

Status copy_terminal(int from, int to) {
    struct termios modes {};
    if (::tcgetattr(from, &modes) != 0) return sys_error("read the terminal's modes (tcgetattr)");
    if (::tcsetattr(to, TCSANOW, &modes) != 0) return sys_error("set the pty's modes (tcsetattr)");
    return copy_window_size(from, to);
}

Result<RawMode> RawMode::enter(int fd, bool keep_output_processing) {
    RawMode raw;
    if (::tcgetattr(fd, &raw.saved_) != 0) return sys_error("read the terminal's modes (tcgetattr)");
    struct termios modes = raw.saved_;
    modes.c_iflag &= ~(ICRNL | IGNCR | INLCR | IXON | IXOFF | ISTRIP);
    if (!keep_output_processing) modes.c_oflag &= ~OPOST;
    modes.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    modes.c_cc[VMIN] = 1;
    modes.c_cc[VTIME] = 0;
    if (::tcsetattr(fd, TCSADRAIN, &modes) != 0) return sys_error("put the terminal in raw mode (tcsetattr)");
    raw.fd_ = fd;
    return raw;
}

RawMode& RawMode::operator=(RawMode&& other) noexcept {
    if (this != &other) {
        restore();
        fd_ = other.fd_;
        saved_ = other.saved_;
        other.fd_ = -1;
    }
    return *this;
}

void RawMode::restore() {
    if (fd_ < 0) return;
    // A restore from the background would stop the caller with SIGTTOU; the user's terminal
    // must come back whatever our job state, so the signal is held off for the call.
    sigset_t ttou, before;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    ::sigprocmask(SIG_BLOCK, &ttou, &before);
    while (::tcsetattr(fd_, TCSADRAIN, &saved_) != 0 && errno == EINTR) {
    }
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    fd_ = -1;
}

bool in_foreground(int fd) {
    pid_t foreground = ::tcgetpgrp(fd);
    return foreground >= 0 && foreground == ::getpgrp();
}

Status lead_terminal_session(int tty) {
    if (::setsid() < 0) return sys_error("start a session for the command's terminal (setsid)");
    if (::ioctl(tty, TIOCSCTTY, 0) != 0) return sys_error("make the pty the controlling terminal (TIOCSCTTY)");
    return {};
}

Status become_foreground_job(int tty) {
    if (::setpgid(0, 0) != 0) return sys_error("start a process group for the command (setpgid)");
    // A group not yet in the foreground that calls tcsetpgrp gets SIGTTOU unless it blocks it.
    sigset_t ttou, before;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    ::sigprocmask(SIG_BLOCK, &ttou, &before);
    int rc = ::tcsetpgrp(tty, ::getpgrp());
    int saved = errno;
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    if (rc != 0) return sys_error("make the command the pty's foreground group (tcsetpgrp)", saved);
    return {};
}

Status leave_terminal_session() {
    if (::setsid() < 0) return sys_error("start a session of the command's own (setsid)");
    return {};
}

}  // namespace ghostpod::sandbox
