#include "sandbox/ghost.hpp"

#include <dirent.h>
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
#include <string_view>

#include "vault/fault.hpp"
#include "sandbox/git_exclude.hpp"
#include "sandbox/messages.hpp"
#include "sandbox/peer.hpp"
#include "sandbox/spawn.hpp"
#include "sandbox/userns.hpp"
#include "sandbox/wire.hpp"

namespace ghostpod::sandbox {
namespace {

constexpr std::size_t kMaxGhostOnlyListed = 1000;

[[noreturn]] void init_fail(int channel, const Error& error) {
    (void)send_error(channel, error);
    ::_exit(1);
}

Status send_done(int channel, InitKind kind, const std::vector<int>& fds = {}) {
    return wire::send_frame(channel, static_cast<std::uint16_t>(kind), {}, fds);
}

// One request from the holder, answered: done, spawned (with the profile's mount namespace) or
// an error.
void serve_request(int channel, const wire::Frame& request, std::vector<UniqueFd>& fds, const RamArea& area, RamKind ram,
                   GitExcludes& excludes) {
    Status placed;
    switch (static_cast<InitKind>(request.kind)) {
    case InitKind::place: {
        PlaceRequest m;
        placed = decode(request.payload, m) ? place_file(area, m.source, m.target) : wire::malformed("a placement request");
        if (placed) placed = exclude_from_git(area, m.target, excludes);  // a ghost-only file in a work tree
        break;
    }
    case InitKind::unplace: {
        UnplaceRequest m;
        placed = decode(request.payload, m) ? unplace_file(m.target) : wire::malformed("an unplace request");
        break;
    }
    case InitKind::spawn: {
        SpawnRequest m;
        if (!decode(request.payload, m) || fds.size() != kSpawnFds) {
            placed = wire::malformed("a spawn request");
            break;
        }
        auto mnt = spawn_in_profile(m.view, ram, fds);
        if (!mnt) {
            placed = std::move(mnt).error();
            break;
        }
        (void)send_done(channel, InitKind::spawned, {mnt->get()});
        return;
    }
    case InitKind::list_ghost_only: {
        auto found = ghost_only_files(kMaxGhostOnlyListed);
        if (!found) {
            placed = std::move(found).error();
            break;
        }
        (void)wire::send_frame(channel, static_cast<std::uint16_t>(InitKind::ghost_only), encode(GhostOnlyFiles{std::move(*found)}));
        return;
    }
    default:
        placed = wire::malformed("a request to ghost init");
    }
    (void)(placed ? send_done(channel, InitKind::done) : send_error(channel, placed.error()));
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
    UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid() || !mnt.valid() || !pid.valid() || !ipc.valid() || !proc.valid() || (!spec.real_root && !user.valid()))
        init_fail(channel, sys_error("open the ghost's namespaces"));
    std::vector<int> fds = {root.get(), mnt.get(), pid.get(), ipc.get(), proc.get()};
    if (user.valid()) fds.push_back(user.get());
    if (!send_done(channel, InitKind::ready, fds)) ::_exit(1);
    proc.reset();
    RamArea area{root.release(), spec.mount_dir, spec.mount_dir + "/" + kShadowArea};  // kept for placements
    user.reset();
    mnt.reset();
    pid.reset();
    ipc.reset();

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    UniqueFd children(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    GitExcludes excludes;
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
            std::vector<UniqueFd> passed;
            auto request = wire::receive_frame(channel, &passed);
            if (!request || !*request) ::_exit(0);
            serve_request(channel, **request, passed, area, ram, excludes);
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
    std::vector<UniqueFd> fds;
    auto received = wire::receive_frame(ours.get(), &fds);
    if (!received || !*received || (*received)->kind != static_cast<std::uint16_t>(InitKind::ready) || fds.size() < 5) {
        ::kill(ghost.pid, SIGKILL);
        ::waitpid(ghost.pid, nullptr, 0);
        Error e = make_error(ErrorCode::runtime, "set up the ghost", "ghost init ended during setup");
        if (received && *received && (*received)->kind == kErrorKind && decode_error((*received)->payload, e)) e.what = "set up the ghost: " + e.what;
        return e;
    }
    // Its exit is watched through a pidfd (from here the pid cannot be reused under us).
    ghost.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, ghost.pid, 0)));
    ghost.channel = std::move(ours);
    ghost.root_dir = std::move(fds[0]);
    ghost.ns_mnt = std::move(fds[1]);
    ghost.ns_pid = std::move(fds[2]);
    ghost.ns_ipc = std::move(fds[3]);
    ghost.proc = std::move(fds[4]);
    if (fds.size() > 5) ghost.ns_user = std::move(fds[5]);
    return ghost;
}

namespace {

// One request to ghost init and its answer. `fd` receives the descriptor a "spawned" carries.
Status ask_ghost_init(Ghost& ghost, InitKind kind, std::span<const std::uint8_t> payload, const std::string& what,
                      const std::vector<int>& fds = {}, UniqueFd* fd = nullptr) {
    GP_TRY(wire::send_frame(ghost.channel.get(), static_cast<std::uint16_t>(kind), payload, fds));
    std::vector<UniqueFd> passed;
    auto reply = wire::receive_frame(ghost.channel.get(), &passed);
    if (!reply) return std::move(reply).error();
    if (!*reply) return make_error(ErrorCode::runtime, what, "ghost init did not answer");
    auto answer = static_cast<InitKind>((*reply)->kind);
    if (answer == InitKind::done && !fd) return {};
    if (answer == InitKind::spawned && fd && passed.size() == 1) {
        *fd = std::move(passed[0]);
        return {};
    }
    Error e;
    if ((*reply)->kind != kErrorKind || !decode_error((*reply)->payload, e)) return wire::malformed("ghost init's answer");
    e.what = what + ": " + e.what;
    return e;
}

}  // namespace

Status unplace_in_ghost(Ghost& ghost, const std::string& target) {
    return ask_ghost_init(ghost, InitKind::unplace, encode(UnplaceRequest{target}), "remove " + target + " from the ghost");
}

Status place_in_ghost(Ghost& ghost, const std::string& source, const std::string& target) {
    return ask_ghost_init(ghost, InitKind::place, encode(PlaceRequest{source, target}), "place " + target + " in the ghost");
}

Result<std::vector<std::string>> ghost_only_files_in(Ghost& ghost) {
    const std::string what = "list the files that exist in the ghost's shadowed directories only";
    GP_TRY(wire::send_frame(ghost.channel.get(), static_cast<std::uint16_t>(InitKind::list_ghost_only), {}));
    auto reply = wire::receive_frame(ghost.channel.get());
    if (!reply) return std::move(reply).error();
    if (!*reply) return make_error(ErrorCode::runtime, what, "ghost init did not answer");
    GhostOnlyFiles found;
    if ((*reply)->kind == static_cast<std::uint16_t>(InitKind::ghost_only) && decode((*reply)->payload, found)) return found.paths;
    Error e;
    if ((*reply)->kind != kErrorKind || !decode_error((*reply)->payload, e)) return wire::malformed("ghost init's answer");
    e.what = what + ": " + e.what;
    return e;
}

Result<UniqueFd> spawn_in_ghost(Ghost& ghost, const ProfileView& view, const std::vector<int>& fds) {
    if (fds.size() != kSpawnFds) return make_error(ErrorCode::runtime, "start a profile's command", "wrong descriptors");
    UniqueFd mnt;
    GP_TRY(ask_ghost_init(ghost, InitKind::spawn, encode(SpawnRequest{view}), "start a command in the profile's view", fds, &mnt));
    return mnt;
}

namespace {

// Whether the ghost's /proc shows nothing left running: ghost init past the release of its
// namespaces (its mountinfo no longer opens: EINVAL, with no ptrace check in the way), and
// every other process a zombie.
bool nothing_left_running(int proc) {
    UniqueFd mounts(::openat(proc, "1/mountinfo", O_RDONLY | O_CLOEXEC));
    if (mounts.valid() || errno != EINVAL) return false;
    UniqueFd listing_fd(::openat(proc, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR* listing = listing_fd.valid() ? ::fdopendir(listing_fd.release()) : nullptr;
    if (listing == nullptr) return false;
    bool running = false;
    while (dirent* d = ::readdir(listing)) {
        std::string name = d->d_name;
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos || name == "1") continue;
        UniqueFd stat_fd(::openat(proc, (name + "/stat").c_str(), O_RDONLY | O_CLOEXEC));
        char text[512];
        ssize_t n = stat_fd.valid() ? ::read(stat_fd.get(), text, sizeof text - 1) : -1;
        if (n <= 0) continue;  // gone meanwhile
        std::string_view stat(text, static_cast<std::size_t>(n));
        auto close = stat.rfind(')');
        char state = close != std::string_view::npos && close + 2 < stat.size() ? stat[close + 2] : '?';
        if (state != 'Z' && state != 'X') running = true;
    }
    ::closedir(listing);
    return !running;
}

}  // namespace

void stop_ghost(Ghost& ghost) {
    if (ghost.pid <= 0) return;
    if (!ghost.pidfd.valid() || ::syscall(SYS_pidfd_send_signal, ghost.pidfd.get(), SIGKILL, nullptr, 0) != 0)
        ::kill(ghost.pid, SIGKILL);
    // Killing pid 1 of a pid namespace kills everything in it, and its exit then waits until
    // each of those is reaped, by its own parent where that is outside the ghost (a command's
    // client). Where that parent died first the command was handed to the pid 1 of the
    // holder's own pid namespace; a container's pid 1 that never reaps keeps it a zombie for
    // good, and ghost init never finishes exiting, although nothing in the ghost runs any more
    // and its memory, descriptors and mounts are released. So the exit is awaited on the
    // pidfd, and the wait also ends once the ghost's /proc shows that state.
    for (int round = 0;; ++round) {
        if (ghost.pidfd.valid()) {
            struct pollfd exited {ghost.pidfd.get(), POLLIN, 0};
            if (::poll(&exited, 1, 100) > 0) break;
        } else if (::waitpid(ghost.pid, nullptr, WNOHANG) == ghost.pid) {
            ghost.pid = -1;
            return;
        } else {
            ::usleep(100 * 1000);
        }
        if (round >= 2 && ghost.proc.valid() && nothing_left_running(ghost.proc.get())) {
            ghost.pid = -1;  // left a zombie-to-be for whoever adopts it once this process ends
            return;
        }
    }
    while (::waitpid(ghost.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    ghost.pid = -1;
}

Status join_ghost(int ns_user, int ns_mnt, int ns_ipc, int ns_pid, bool outside) {
    struct Join {
        int fd;
        int type;
        const char* own;
        const char* name;
    };
    const Join joins[] = {{ns_user, CLONE_NEWUSER, "/proc/self/ns/user", "user"},
                          {ns_mnt, CLONE_NEWNS, "/proc/self/ns/mnt", "mount"},
                          {ns_ipc, CLONE_NEWIPC, "/proc/self/ns/ipc", "IPC"},
                          {ns_pid, CLONE_NEWPID, "/proc/self/ns/pid_for_children", "pid"}};
    auto same = [](const Join& j) {
        UniqueFd own(::open(j.own, O_RDONLY | O_CLOEXEC));
        return own.valid() && namespace_id(own.get(), j.type) == namespace_id(j.fd, j.type);
    };
    // A namespace the caller is already in is not joined again (a command in the ghost running
    // ghostpod has no privilege to, and needs none). Read before the first setns: once in the
    // ghost's mount namespace, its /proc does not show a caller from outside. A caller the
    // holder placed outside (its pid namespace is not the ghost's or below it) joins each
    // without looking first: setns into a mount, IPC or pid namespace it may already be in
    // succeeds for it as for anyone with the privilege to join; the user namespace alone refuses
    // the one the caller is in (EINVAL), which is looked at then.
    bool already[4] = {};
    for (int i = 0; i < 4 && !outside; ++i) already[i] = joins[i].fd >= 0 && same(joins[i]);
    for (int i = 0; i < 4; ++i) {
        if (joins[i].fd < 0 || already[i]) continue;
        if (::setns(joins[i].fd, joins[i].type) == 0) continue;
        int saved = errno;
        if (outside && i == 0 && saved == EINVAL && same(joins[i])) continue;
        return sys_error(std::string("join the ghost's ") + joins[i].name + " namespace (setns)", saved);
    }
    return {};
}

}  // namespace ghostpod::sandbox
