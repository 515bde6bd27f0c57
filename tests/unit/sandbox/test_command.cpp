// The pre-exec sequence of a command (sandbox/command.cpp) in a real forked process: what the
// seccomp filter denies a command that leads a session of its own on a terminal.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "sandbox/command.hpp"
#include "sandbox/seccomp.hpp"

namespace {

// Where the probe runs: fd 0-2 on its terminal. Prints whether it leads its session and what
// the terminal ioctls the filter denies answer.
const char* kTerminalProbe = R"PY(
import fcntl, os, termios
print("leader", os.getsid(0) == os.getpid())
for name, req, arg in (("TIOCSCTTY", termios.TIOCSCTTY, 0), ("TIOCSETD", termios.TIOCSETD, b"\0\0\0\0")):
    try:
        fcntl.ioctl(0, req, arg)
        print(name, "allowed")
    except OSError as e:
        print(name, e.errno)
)PY";

// Runs the probe through exec_command on a fresh pseudo-terminal; returns what it printed.
std::string run_on_pty(ghostpod::sandbox::TerminalStep step) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master >= 0);
    REQUIRE(grantpt(master) == 0);
    REQUIRE(unlockpt(master) == 0);
    std::string slave = ptsname(master);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        int fd = open(slave.c_str(), O_RDWR | O_NOCTTY);
        if (fd < 0) _exit(125);
        for (int to : {0, 1, 2}) dup2(fd, to);
        // Unprivileged, a user namespace of its own gives the child the capabilities the
        // sequence drops (as joining the ghost's does for a real command).
        if (geteuid() != 0 && unshare(CLONE_NEWUSER) != 0) _exit(124);
        // The program the holder would hand over: compiled here, as the holder does once.
        auto program = ghostpod::sandbox::compile_seccomp_filter();
        if (!program || !ghostpod::sandbox::use_seccomp_program(std::move(*program))) _exit(123);
        ghostpod::sandbox::CommandSpec spec{{"python3", "-c", kTerminalProbe}, environ, "/", step};
        ghostpod::Error failed = ghostpod::sandbox::exec_command(spec);
        dprintf(2, "%s\n", failed.describe().c_str());
        _exit(126);
    }
    std::string out;
    char buffer[4096];
    for (;;) {
        ssize_t n = read(master, buffer, sizeof buffer);
        if (n > 0) out.append(buffer, static_cast<std::size_t>(n));
        else if (n < 0 && errno == EINTR) continue;
        else break;  // EIO once the last slave descriptor is closed
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    close(master);
    INFO(out);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return out;
}

}  // namespace

TEST_CASE("a command leading a session of its own on a terminal cannot take it or change its line discipline", "[sandbox][command]") {
    // setsid leaves it a session leader, fd 0 a terminal no other session has: TIOCSCTTY
    // would make (or keep) it the command's, but the filter answers EPERM.
    std::string out = run_on_pty(ghostpod::sandbox::TerminalStep::new_session);
    CHECK(out.find("leader True") != std::string::npos);
    CHECK(out.find("TIOCSCTTY 1\r\n") != std::string::npos);
    CHECK(out.find("TIOCSETD 1\r\n") != std::string::npos);
}
