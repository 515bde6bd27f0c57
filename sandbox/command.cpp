#include "sandbox/command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "sandbox/caps.hpp"
#include "sandbox/landlock.hpp"
#include "sandbox/pty.hpp"
#include "sandbox/seccomp.hpp"

namespace ghostpod::sandbox {
namespace {

Status take_terminal_step(TerminalStep step) {
    switch (step) {
    case TerminalStep::new_session: return leave_terminal_session();
    case TerminalStep::new_group:
        if (::setpgid(0, 0) != 0) return sys_error("start a process group for the command (setpgid)");
        return {};
    case TerminalStep::foreground_job:
        for (int fd = 0; fd <= 2; ++fd)
            if (::isatty(fd)) return become_foreground_job(fd);
        return make_error(ErrorCode::runtime, "make the command the pty's foreground group", "none of fds 0-2 is a terminal");
    case TerminalStep::same_group: return {};
    }
    return {};
}

}  // namespace

Error exec_command(const CommandSpec& spec) {
    // setns reset the working directory to the namespace's root; go back where the user was.
    if (::chdir(spec.cwd.c_str()) != 0) {
        const char* home = std::getenv("HOME");
        if ((!home || ::chdir(home) != 0) && ::chdir("/") != 0) return sys_error("chdir " + spec.cwd);
    }
    for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE, SIGCONT, SIGWINCH}) ::signal(sig, SIG_DFL);
    // Before the seccomp filter, which may deny the terminal ioctls these take.
    if (auto placed = take_terminal_step(spec.terminal); !placed) return placed.error();
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct rlimit no_core {0, 0};
    if (::setrlimit(RLIMIT_CORE, &no_core) != 0) return sys_error("setrlimit RLIMIT_CORE 0");
    if (auto dropped = drop_capabilities(); !dropped) return dropped.error();
    // Landlock needs no_new_privs; the seccomp filter would set it too.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sys_error("prctl PR_SET_NO_NEW_PRIVS");
    if (auto domain = enter_own_landlock_domain(); !domain) return domain.error();
    // The holder compiled it once for the session; this process got it by inheritance or attach.
    if (auto filtered = install_seccomp_program(seccomp_program()); !filtered) return filtered.error();
    if (spec.report_fd > 2) {
        if (::fcntl(spec.report_fd, F_SETFD, FD_CLOEXEC) != 0) return sys_error("keep the report descriptor");
        if ((spec.report_fd > 3 && ::syscall(SYS_close_range, 3, static_cast<unsigned>(spec.report_fd - 1), 0) != 0) ||
            ::syscall(SYS_close_range, static_cast<unsigned>(spec.report_fd + 1), ~0U, 0) != 0)
            return sys_error("close_range");
    } else if (::syscall(SYS_close_range, 3, ~0U, 0) != 0) {
        return sys_error("close_range");
    }
    std::vector<char*> args;
    for (const auto& a : spec.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // execvpe searches PATH of the caller's environment, which is the command's PATH too.
    ::execvpe(args[0], args.data(), spec.envp);
    return sys_error("run " + spec.argv[0] + " in the ghost");
}

}  // namespace ghostpod::sandbox
