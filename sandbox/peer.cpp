#include "sandbox/peer.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "vault/unique_fd.hpp"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5
#endif

namespace ghostpod::sandbox {
namespace {

// A pidfd for the process that connected: from the socket itself where the kernel can (no race
// at all), else opened by pid right away (the peer waits for our answer, so its pid is not free).
UniqueFd peer_pidfd(int conn, pid_t pid) {
    int fd = -1;
    socklen_t len = sizeof fd;
    if (::getsockopt(conn, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 && fd >= 0) return UniqueFd(fd);
    return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

// /proc/PID/status, read once for every field asked of it.
std::string status_text(int proc_dir) {
    UniqueFd fd(::openat(proc_dir, "status", O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return {};
    std::vector<std::uint8_t> text;
    if (!read_to_end(fd.get(), text, 1 << 20, "read status")) return {};
    return std::string(text.begin(), text.end());
}

// The fields of a status line, e.g. "NSpid:\t812\t3\t1" -> {"812", "3", "1"}.
std::vector<std::string> status_fields(const std::string& s, const std::string& key) {
    std::size_t at = s.find("\n" + key + ":");
    if (at == std::string::npos) return {};
    std::size_t end = s.find('\n', at + 1);
    std::string line = s.substr(at + key.size() + 2, end == std::string::npos ? std::string::npos : end - at - key.size() - 2);
    std::vector<std::string> fields;
    std::size_t pos = 0;
    while (pos < line.size()) {
        std::size_t start = line.find_first_not_of(" \t", pos);
        if (start == std::string::npos) break;
        std::size_t stop = line.find_first_of(" \t", start);
        fields.push_back(line.substr(start, stop - start));
        pos = stop == std::string::npos ? line.size() : stop;
    }
    return fields;
}

NsId namespace_at(int proc_dir, const char* name, int nstype) {
    UniqueFd fd(::openat(proc_dir, name, O_RDONLY | O_CLOEXEC));
    return fd.valid() ? namespace_id(fd.get(), nstype) : NsId{};
}

}  // namespace

NsId namespace_id(int fd, int nstype) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return {};
    int type = ::ioctl(fd, NS_GET_NSTYPE);
    if (type != nstype) return {};
    return {st.st_dev, st.st_ino};
}

Result<Peer> identify_peer(int conn, int ghost_pid_ns, int ghost_mnt_ns) {
    struct ucred cred {};
    socklen_t len = sizeof cred;
    if (::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return sys_error("read the peer's credentials (SO_PEERCRED)");
    Peer peer;
    peer.uid = cred.uid;
    peer.pid = cred.pid;
    if (cred.uid != ::getuid()) return make_error(ErrorCode::session, "serve a peer", "it runs as another user");
    // pid 0: the peer's pid namespace is not ours or below it, so it cannot be in the ghost.
    if (cred.pid == 0) return peer;
    UniqueFd pidfd = peer_pidfd(conn, cred.pid);
    if (!pidfd.valid()) return sys_error("pin the peer process (pidfd)");
    UniqueFd proc(::open(("/proc/" + std::to_string(cred.pid)).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!proc.valid()) return sys_error("open /proc of the peer");
    // Alive now means alive when /proc/PID was opened: that directory is the peer's own.
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) != 0) return sys_error("check the peer is still there");
    // Its current credentials must still be ours, as SO_PEERCRED said at connect().
    std::string status = status_text(proc.get());
    auto uids = status_fields(status, "Uid");
    if (uids.size() != 4) return make_error(ErrorCode::session, "serve a peer", "its credentials could not be read");
    for (const auto& u : uids)
        if (u != std::to_string(::getuid())) return make_error(ErrorCode::session, "serve a peer", "it runs as another user");
    // NSpid lists the peer's pid in each pid namespace from /proc's down to its own: a list no
    // longer than ours puts it at our level (or above), never inside the ghost, which is below.
    static const std::size_t own_levels = [] {
        UniqueFd self(::open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC));
        return self.valid() ? status_fields(status_text(self.get()), "NSpid").size() : 1;
    }();
    auto levels = status_fields(status, "NSpid");
    if (levels.empty()) return make_error(ErrorCode::session, "serve a peer", "its pid namespaces could not be read");
    if (levels.size() <= own_levels) return peer;
    // Below us: the full ghost, or anything nested in it (or elsewhere) is told by namespace.
    // One that cannot be read stays nested with no mount namespace: it gets nothing.
    peer.place = PeerPlace::nested;
    NsId pid_ns = namespace_at(proc.get(), "ns/pid", CLONE_NEWPID);
    peer.mnt = namespace_at(proc.get(), "ns/mnt", CLONE_NEWNS);
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) != 0) return sys_error("check the peer is still there");
    if (pid_ns.valid() && pid_ns == namespace_id(ghost_pid_ns, CLONE_NEWPID) && peer.mnt.valid() &&
        peer.mnt == namespace_id(ghost_mnt_ns, CLONE_NEWNS))
        peer.place = PeerPlace::ghost;
    return peer;
}

}  // namespace ghostpod::sandbox
