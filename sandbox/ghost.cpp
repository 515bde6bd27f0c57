#include "sandbox/ghost.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vault/fault.hpp"
#include "sandbox/fdpass.hpp"
#include "sandbox/userns.hpp"

namespace ghostpod::sandbox {
namespace {

constexpr char kShadowArea[] = ".ghostpod-shadow";

[[noreturn]] void init_fail(int channel, const Error& error) {
    (void)send_message(channel, "error\t" + error.describe());
    ::_exit(1);
}

Status setup_inside(const GhostSpec& spec, RamKind ram) {
    if (!spec.real_root) GP_TRY(map_self(spec.uid, spec.gid));
    GP_TRY(make_mounts_private());
    GP_TRY(mount_proc());
    GP_TRY(mount_devpts());
    GP_TRY(mount_ram(spec.mount_dir, ram, spec.ram_limit));
    std::string shadow = spec.mount_dir + "/" + kShadowArea;
    if (::mkdir(shadow.c_str(), 0700) != 0) return sys_error("mkdir " + shadow);
    return {};
}

void reap_children() {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

// Ghost init: pid 1 of the ghost. Reaps orphans and serves placement requests; dies with the
// holder (PDEATHSIG), and everything in the pid namespace dies with it.
[[noreturn]] void ghost_init(const GhostSpec& spec, RamKind ram, int channel) {
    // Keep only the channel: an inherited pipe end (the launcher's "ready" pipe, a client
    // socket) would otherwise stay open for the ghost's whole life.
    if (channel != 3) {
        if (::dup2(channel, 3) < 0) ::_exit(1);
        channel = 3;
    }
    ::syscall(SYS_close_range, 4, ~0U, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::prctl(PR_SET_NAME, "ghostpod-init");
    // The holder may have died before PDEATHSIG was armed: then the channel is already hung up.
    struct pollfd check {channel, POLLIN, 0};
    if (::poll(&check, 1, 0) > 0 && (check.revents & POLLHUP)) ::_exit(1);

    if (auto ready = setup_inside(spec, ram); !ready) init_fail(channel, ready.error());
    UniqueFd root(::open(spec.mount_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    UniqueFd user(spec.real_root ? -1 : ::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC));
    UniqueFd mnt(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    UniqueFd pid(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    UniqueFd ipc(::open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC));
    if (!root.valid() || !mnt.valid() || !pid.valid() || !ipc.valid() || (!spec.real_root && !user.valid()))
        init_fail(channel, sys_error("open the ghost's namespaces"));
    std::vector<int> fds = {root.get(), mnt.get(), pid.get(), ipc.get()};
    if (user.valid()) fds.push_back(user.get());
    if (!send_message(channel, "ready", fds)) ::_exit(1);
    root.reset();
    user.reset();
    mnt.reset();
    pid.reset();
    ipc.reset();

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    UniqueFd children(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    for (;;) {
        struct pollfd fds_to_watch[2] = {{channel, POLLIN, 0}, {children.get(), POLLIN, 0}};
        if (::poll(fds_to_watch, 2, -1) < 0) continue;
        if (fds_to_watch[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (::read(children.get(), &info, sizeof info) > 0) {
            }
            reap_children();
        }
        if (fds_to_watch[0].revents & (POLLIN | POLLHUP)) {
            std::string request;
            if (!receive_message(channel, request) || request.empty()) ::_exit(0);
            // "place\t<source>\t<target>" or "unplace\t<target>"
            Status placed;
            if (request.rfind("unplace\t", 0) == 0) {
                placed = unplace_file(request.substr(8));
            } else {
                auto first = request.find('\t'), second = request.find('\t', first + 1);
                if (request.rfind("place\t", 0) != 0 || second == std::string::npos) {
                    (void)send_message(channel, "error\tunknown request");
                    continue;
                }
                placed = place_file(area, request.substr(first + 1, second - first - 1), request.substr(second + 1));
            }
            (void)send_message(channel, placed ? std::string("ok") : "error\t" + placed.error().describe());
        }
    }
}

}  // namespace

Result<Ghost> start_ghost(const GhostSpec& spec) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return sys_error("socketpair for ghost init");
    UniqueFd ours(pair[0]), theirs(pair[1]);
    RamKind ram = spec.real_root ? RamKind::tmpfs_noswap : RamKind::ramfs;
    unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | (spec.real_root ? 0 : CLONE_NEWUSER);
    // A raw clone behaves like fork with new namespaces: the child runs on a copy of our stack.
    long pid = GP_FAULT("session.clone", EPERM) ? -1 : ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid < 0) {
        Error e = sys_error("clone the ghost (user, mount, pid, ipc namespaces)");
        if (errno == EPERM || errno == ENOSPC)
            e.hint = "unprivileged user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces)";
        return e;
    }
    if (pid == 0) {
        ours.reset();
        ghost_init(spec, ram, theirs.get());
    }
    theirs.reset();
    Ghost ghost;
    ghost.pid = static_cast<pid_t>(pid);
    ghost.ram = ram;
    std::string reply;
    std::vector<UniqueFd> fds;
    auto received = receive_message(ours.get(), reply, &fds);
    if (!received || reply != "ready" || fds.size() < 4) {
        ::kill(ghost.pid, SIGKILL);
        ::waitpid(ghost.pid, nullptr, 0);
        std::string why = reply.rfind("error\t", 0) == 0 ? reply.substr(6) : "ghost init ended during setup";
        return make_error(ErrorCode::runtime, "set up the ghost", why);
    }
    ghost.channel = std::move(ours);
    ghost.root_dir = std::move(fds[0]);
    ghost.ns_mnt = std::move(fds[1]);
    ghost.ns_pid = std::move(fds[2]);
    ghost.ns_ipc = std::move(fds[3]);
    if (fds.size() > 4) ghost.ns_user = std::move(fds[4]);
    return ghost;
}

namespace {
Status ask_ghost_init(Ghost& ghost, const std::string& request, const std::string& what) {
    GP_TRY(send_message(ghost.channel.get(), request));
    std::string reply;
    GP_TRY(receive_message(ghost.channel.get(), reply));
    if (reply == "ok") return {};
    return make_error(ErrorCode::runtime, what, reply.rfind("error\t", 0) == 0 ? reply.substr(6) : "ghost init did not answer");
}
}  // namespace

Status unplace_in_ghost(Ghost& ghost, const std::string& target) {
    return ask_ghost_init(ghost, "unplace\t" + target, "remove " + target + " from the ghost");
}

Status place_in_ghost(Ghost& ghost, const std::string& source, const std::string& target) {
    return ask_ghost_init(ghost, "place\t" + source + "\t" + target, "place " + target + " in the ghost");
}

void stop_ghost(Ghost& ghost) {
    if (ghost.pid <= 0) return;
    ::kill(ghost.pid, SIGKILL);
    while (::waitpid(ghost.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    ghost.pid = -1;
}

Status join_ghost(int ns_user, int ns_mnt, int ns_ipc, int ns_pid) {
    if (ns_user >= 0 && ::setns(ns_user, CLONE_NEWUSER) != 0) return sys_error("join the ghost's user namespace (setns)");
    if (::setns(ns_mnt, CLONE_NEWNS) != 0) return sys_error("join the ghost's mount namespace (setns)");
    if (::setns(ns_ipc, CLONE_NEWIPC) != 0) return sys_error("join the ghost's IPC namespace (setns)");
    if (::setns(ns_pid, CLONE_NEWPID) != 0) return sys_error("join the ghost's pid namespace (setns)");
    return {};
}

}  // namespace ghostpod::sandbox
