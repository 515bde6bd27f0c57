#include "sandbox/command.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "sandbox/caps.hpp"
#include "sandbox/seccomp.hpp"

namespace ghostpod::sandbox {

Error exec_command(const CommandSpec& spec) {
    // setns reset the working directory to the namespace's root; go back where the user was.
    if (::chdir(spec.cwd.c_str()) != 0) {
        const char* home = std::getenv("HOME");
        if ((!home || ::chdir(home) != 0) && ::chdir("/") != 0) return sys_error("chdir " + spec.cwd);
    }
    for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTTOU, SIGPIPE}) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct rlimit no_core {0, 0};
    if (::setrlimit(RLIMIT_CORE, &no_core) != 0) return sys_error("setrlimit RLIMIT_CORE 0");
    if (auto dropped = drop_capabilities(); !dropped) return dropped.error();
    if (auto filtered = install_seccomp_filter(); !filtered) return filtered.error();
    if (::syscall(SYS_close_range, 3, ~0U, 0) != 0) return sys_error("close_range");
    std::vector<char*> args;
    for (const auto& a : spec.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // execvpe searches PATH of the caller's environment, which is the command's PATH too.
    ::execvpe(args[0], args.data(), spec.envp);
    return sys_error("run " + spec.argv[0] + " in the ghost");
}

}  // namespace ghostpod::sandbox
