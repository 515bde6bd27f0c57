#include "sandbox/spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/command.hpp"
#include "sandbox/wire.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod::sandbox {
namespace {

// Where the passed descriptors sit in the spawned processes (above anything ghost init holds).
enum : int { kIn = 100, kOut, kErr, kControl, kCommand, kSetup };

int exit_status(int wait_status) { return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status); }

[[noreturn]] void fail(int fd, const Error& e, int code) {
    (void)send_error(fd, e);
    ::_exit(code);
}

// The command: stdio, its command line and environment from the pipe, then exec.
[[noreturn]] void run_command() {
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(kIn, 0) < 0 || ::dup2(kOut, 1) < 0 || ::dup2(kErr, 2) < 0) fail(kControl, sys_error("set up the command's stdio"), 126);
    auto frame = wire::read_frame(kCommand, wire::kMaxFieldBytes * 4);
    CommandHeader header;
    if (!frame) fail(kControl, frame.error(), 126);
    if (!*frame || (*frame)->kind != static_cast<std::uint16_t>(CommandKind::command) || !decode((*frame)->payload, header))
        fail(kControl, wire::malformed("the command to run"), 126);
    auto env = SecretBuffer::read_fd(kCommand, kMaxEnvironmentBytes, "read the command's environment");
    if (!env) fail(kControl, env.error(), 126);
    if (env->size() != header.env_bytes || (!env->empty() && env->data()[env->size() - 1] != '\0'))
        fail(kControl, wire::malformed("the command's environment"), 126);
    ::close(kCommand);
    std::vector<char*> envp;
    for (std::size_t at = 0; at < env->size(); at += std::strlen(reinterpret_cast<char*>(env->data() + at)) + 1)
        envp.push_back(reinterpret_cast<char*>(env->data() + at));
    envp.push_back(nullptr);
    Error failed = exec_command({header.argv, envp.data(), header.cwd, TerminalStep::new_session, kControl});
    fail(kControl, failed, failed.errnum == ENOENT ? 127 : 126);
}

// pid 1 of the profile's pid namespace: a fresh /proc, the command, then relaying until it ends.
[[noreturn]] void profile_init() {
    ::prctl(PR_SET_NAME, "ghostpod-prof");
    sigset_t children;
    sigemptyset(&children);
    sigaddset(&children, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &children, nullptr);
    UniqueFd reaped(::signalfd(-1, &children, SFD_CLOEXEC | SFD_NONBLOCK));
    if (auto proc = mount_proc(); !proc) fail(kControl, proc.error(), 126);
    pid_t command = ::fork();
    if (command < 0) fail(kControl, sys_error("fork the profile's command"), 126);
    if (command == 0) run_command();
    for (int fd : {kIn, kOut, kErr, kCommand}) ::close(fd);
    for (;;) {
        struct pollfd watch[2] = {{kControl, POLLIN, 0}, {reaped.get(), POLLIN, 0}};
        if (::poll(watch, 2, -1) < 0) continue;
        if (watch[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (::read(reaped.get(), &info, sizeof info) > 0) {
            }
            int status = 0;
            for (pid_t done; (done = ::waitpid(-1, &status, WNOHANG)) > 0;) {
                if (done != command) continue;
                (void)wire::send_frame(kControl, static_cast<std::uint16_t>(CommandKind::exited), encode(ExitMessage{exit_status(status)}));
                ::_exit(0);  // as pid 1: every process left in the profile goes with it
            }
        }
        if (watch[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            auto frame = wire::receive_frame(kControl);
            if (!frame || !*frame) ::_exit(1);  // the caller is gone: so is the profile
            SignalMessage sig;
            if ((*frame)->kind == static_cast<std::uint16_t>(CommandKind::signal) && decode((*frame)->payload, sig)) ::kill(command, sig.signo);
        }
    }
}

// Ghost init's child: the profile's view in a mount namespace of its own, reported with that
// namespace; a pid namespace for the profile's init; then gone.
[[noreturn]] void profile_setup(const ProfileView& view, RamKind ram) {
    ::setsid();  // out of the holder's session and process group
    if (::unshare(CLONE_NEWNS) != 0) fail(kSetup, sys_error("unshare a mount namespace for the profile"), 1);
    UniqueFd self(::open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!self.valid()) fail(kSetup, sys_error("open /proc/self"), 1);
    if (auto built = build_profile_view(view, ram, self.get()); !built) fail(kSetup, built.error(), 1);
    UniqueFd mnt(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!mnt.valid()) fail(kSetup, sys_error("open the profile's mount namespace"), 1);
    if (::unshare(CLONE_NEWPID) != 0) fail(kSetup, sys_error("unshare a pid namespace for the profile"), 1);
    if (!wire::send_frame(kSetup, static_cast<std::uint16_t>(InitKind::spawned), {}, {mnt.get()})) ::_exit(1);
    pid_t init = ::fork();
    if (init < 0) fail(kControl, sys_error("fork the profile's init"), 1);
    if (init == 0) {
        ::close(kSetup);
        profile_init();
    }
    ::_exit(0);
}

}  // namespace

Result<UniqueFd> spawn_in_profile(const ProfileView& view, RamKind ram, std::vector<UniqueFd>& fds) {
    if (fds.size() != kSpawnFds) return make_error(ErrorCode::runtime, "start a profile's command", "wrong descriptors");
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return sys_error("socketpair for the profile's setup");
    UniqueFd ours(pair[0]), theirs(pair[1]);
    pid_t pid = ::fork();
    if (pid < 0) return sys_error("fork for the profile's command");
    if (pid == 0) {
        // Ghost init's descriptors are all far below kIn: moving these up clobbers none of them.
        for (std::size_t i = 0; i < kSpawnFds; ++i)
            if (::dup2(fds[i].get(), kIn + static_cast<int>(i)) < 0) ::_exit(1);
        if (::dup2(theirs.get(), kSetup) < 0) ::_exit(1);
        ::syscall(SYS_close_range, 3, kIn - 1, 0);
        ::syscall(SYS_close_range, kSetup + 1, ~0U, 0);
        profile_setup(view, ram);
    }
    theirs.reset();
    fds.clear();
    std::vector<UniqueFd> passed;
    auto reply = wire::receive_frame(ours.get(), &passed);
    if (!reply) return std::move(reply).error();
    if (!*reply) return make_error(ErrorCode::runtime, "build the profile's view", "its setup ended without an answer");
    if ((*reply)->kind == static_cast<std::uint16_t>(InitKind::spawned) && passed.size() == 1) return std::move(passed[0]);
    Error e;
    if ((*reply)->kind != kErrorKind || !decode_error((*reply)->payload, e)) return wire::malformed("the profile's setup answer");
    return e;
}

Status send_command(UniqueFd command, const std::vector<std::string>& argv, const std::string& cwd,
                    std::span<const std::uint8_t> environment) {
    CommandHeader header{argv, cwd, environment.size()};
    // A command that never started has closed its end: EPIPE, not SIGPIPE.
    struct sigaction ignore {}, old {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);
    Status sent = wire::write_frame(command.get(), static_cast<std::uint16_t>(CommandKind::command), encode(header));
    if (sent) sent = write_all(command.get(), environment, "hand the command its environment");
    ::sigaction(SIGPIPE, &old, nullptr);
    return sent;
}

int relay_spawned(int control, const std::function<void(const Error&)>& on_error) {
    sigset_t relayed, old;
    sigemptyset(&relayed);
    for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP}) sigaddset(&relayed, sig);
    ::sigprocmask(SIG_BLOCK, &relayed, &old);
    UniqueFd signals(::signalfd(-1, &relayed, SFD_CLOEXEC));
    bool reported = false;
    int status = -1;
    while (status < 0) {
        struct pollfd watch[2] = {{control, POLLIN, 0}, {signals.get(), POLLIN, 0}};
        if (::poll(watch, 2, -1) < 0) continue;
        if (watch[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            if (::read(signals.get(), &info, sizeof info) == sizeof info)
                (void)wire::send_frame(control, static_cast<std::uint16_t>(CommandKind::signal),
                                       encode(SignalMessage{static_cast<std::int32_t>(info.ssi_signo)}));
        }
        if (!(watch[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        auto frame = wire::receive_frame(control);
        if (!frame || !*frame) {
            status = reported ? 126 : 128 + SIGKILL;
            break;
        }
        Error e;
        ExitMessage exited;
        if ((*frame)->kind == kErrorKind && decode_error((*frame)->payload, e)) {
            on_error(e);
            reported = true;
        } else if ((*frame)->kind == static_cast<std::uint16_t>(CommandKind::exited) && decode((*frame)->payload, exited)) {
            status = exited.status;
        }
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    return status;
}

}  // namespace ghostpod::sandbox
