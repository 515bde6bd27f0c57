#include "sandbox/scratch.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sandbox/messages.hpp"
#include "sandbox/mounts.hpp"
#include "sandbox/userns.hpp"
#include "sandbox/wire.hpp"

namespace ghostpod::sandbox {
namespace {

// Child and parent on the channel: ready (fd: the RAM mount's root) or an error, then go.
enum class ScratchKind : std::uint16_t { ready = 1, go };

Status setup_child(const ScratchSpec& spec) {
    if (spec.real_root) {
        if (::unshare(CLONE_NEWNS) != 0) return sys_error("unshare a mount namespace");
    } else {
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            Error e = sys_error("unshare a user and mount namespace");
            e.hint = "unprivileged user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces)";
            return e;
        }
        GP_TRY(map_self(spec.uid, spec.gid));
    }
    GP_TRY(make_mounts_private());
    return mount_ram(spec.mount_dir, spec.real_root ? RamKind::tmpfs_noswap : RamKind::ramfs, spec.ram_limit);
}

[[noreturn]] void scratch_child(const ScratchSpec& spec, pid_t parent, int channel) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);  // the parent died before PDEATHSIG was armed
    if (auto ready = setup_child(spec); !ready) {
        (void)send_error(channel, ready.error());
        ::_exit(1);
    }
    UniqueFd root(::open(spec.mount_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid() || !wire::send_frame(channel, static_cast<std::uint16_t>(ScratchKind::ready), {}, {root.get()})) ::_exit(1);
    root.reset();
    auto go = wire::receive_frame(channel);
    if (!go || !*go || (*go)->kind != static_cast<std::uint16_t>(ScratchKind::go)) ::_exit(1);
    // The program gets descriptors 0-2 only: not the channel, nor a --passphrase-fd pipe.
    ::syscall(SYS_close_range, 3, ~0U, 0);
    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(errno == ENOENT ? 127 : 126);
}

constexpr int kMaxWipeDepth = 32;

void wipe_dir(int dir, int depth) {
    if (depth > kMaxWipeDepth) return;
    UniqueFd listing_fd(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR* listing = listing_fd.valid() ? ::fdopendir(listing_fd.get()) : nullptr;
    if (listing == nullptr) return;
    (void)listing_fd.release();
    std::vector<std::string> names;
    while (dirent* d = ::readdir(listing))
        if (std::strcmp(d->d_name, ".") != 0 && std::strcmp(d->d_name, "..") != 0) names.emplace_back(d->d_name);
    ::closedir(listing);
    static const char zeros[4096] = {};
    for (const auto& name : names) {
        struct stat st {};
        if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (sub.valid()) wipe_dir(sub.get(), depth + 1);
            ::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
            continue;
        }
        if (S_ISREG(st.st_mode)) {
            (void)!::fchmodat(dir, name.c_str(), 0600, 0);
            UniqueFd file(::openat(dir, name.c_str(), O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
            for (off_t done = 0; file.valid() && done < st.st_size;) {
                ssize_t n = ::pwrite(file.get(), zeros, static_cast<std::size_t>(std::min<off_t>(sizeof zeros, st.st_size - done)), done);
                if (n <= 0) break;
                done += n;
            }
        }
        ::unlinkat(dir, name.c_str(), 0);
    }
}

}  // namespace

Result<ScratchProcess> ScratchProcess::prepare(const ScratchSpec& spec) {
    if (spec.argv.empty()) return make_error(ErrorCode::runtime, "start a program with a RAM directory", "no program given");
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return sys_error("socketpair for the RAM directory");
    UniqueFd ours(pair[0]), theirs(pair[1]);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return sys_error("fork");
    if (pid == 0) {
        ours.reset();
        scratch_child(spec, parent, theirs.release());
    }
    theirs.reset();
    ScratchProcess p;
    p.pid_ = pid;
    p.channel_ = std::move(ours);
    std::vector<UniqueFd> fds;
    auto received = wire::receive_frame(p.channel_.get(), &fds);
    bool ready = received && *received && (*received)->kind == static_cast<std::uint16_t>(ScratchKind::ready) &&
                 (*received)->payload.empty() && fds.size() == 1;
    if (!ready) {
        Error failed;
        if (received && *received && (*received)->kind == kErrorKind && decode_error((*received)->payload, failed))
            return make_error(ErrorCode::runtime, "mount a RAM directory over " + spec.mount_dir, failed.describe(), failed.hint);
        return make_error(ErrorCode::runtime, "mount a RAM directory over " + spec.mount_dir, "the child ended during setup");
    }
    p.root_ = std::move(fds[0]);
    return p;
}

ScratchProcess::ScratchProcess(ScratchProcess&& other) noexcept
    : pid_(other.pid_), channel_(std::move(other.channel_)), root_(std::move(other.root_)) {
    other.pid_ = -1;
}

ScratchProcess::~ScratchProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
}

Status ScratchProcess::start() {
    GP_TRY(wire::send_frame(channel_.get(), static_cast<std::uint16_t>(ScratchKind::go), {}));
    channel_.reset();
    return {};
}

Result<int> ScratchProcess::wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
        if (errno != EINTR) return sys_error("wait for the program");
    }
    pid_ = -1;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

void ScratchProcess::wipe() {
    if (root_.valid()) wipe_dir(root_.get(), 0);
}

}  // namespace ghostpod::sandbox
