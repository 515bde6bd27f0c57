#include "sandbox/beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace ghostpod::sandbox {
namespace {

std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> parts;
    for (std::size_t start = 0; start <= path.size();) {
        std::size_t slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        if (slash > start) parts.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return parts;
}

// The walk openat2 does, by hand: each component opened with O_NOFOLLOW relative to the last,
// refusing "." and ".." and any change of device (a mount).
int walk_beneath(int root, const std::string& path, int flags, mode_t mode) {
    struct stat root_st {};
    if (::fstat(root, &root_st) != 0) return -1;
    auto parts = components(path);
    if (parts.empty() || path[0] == '/') {
        errno = EXDEV;
        return -1;
    }
    UniqueFd current(::fcntl(root, F_DUPFD_CLOEXEC, 0));
    if (!current.valid()) return -1;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (parts[i] == "." || parts[i] == "..") {
            errno = EXDEV;
            return -1;
        }
        bool last = i + 1 == parts.size();
        int next = last ? ::openat(current.get(), parts[i].c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode)
                        : ::openat(current.get(), parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st {};
        if (next < 0) {
            // O_NOFOLLOW meets a link as ENOTDIR (on the way) or ELOOP: report it as openat2 does.
            if (errno == ENOTDIR && ::fstatat(current.get(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                errno = ELOOP;
            return -1;
        }
        UniqueFd opened(next);
        if (::fstat(opened.get(), &st) != 0) return -1;
        if (S_ISLNK(st.st_mode)) {  // O_PATH | O_NOFOLLOW opens a last component that is a link
            errno = ELOOP;
            return -1;
        }
        if (st.st_dev != root_st.st_dev) {
            errno = EXDEV;
            return -1;
        }
        current = std::move(opened);
    }
    return current.release();
}

}  // namespace

Result<UniqueFd> open_beneath(int root, const std::string& path, int flags, mode_t mode) {
    struct open_how how {};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;  // O_TMPFILE includes O_DIRECTORY
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
    long fd = ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) fd = walk_beneath(root, path, flags, mode);
    if (fd < 0) return sys_error("open " + path);
    return UniqueFd(static_cast<int>(fd));
}

Result<UniqueFd> open_parent_beneath(int root, const std::string& path, std::string& leaf) {
    auto slash = path.rfind('/');
    leaf = slash == std::string::npos ? path : path.substr(slash + 1);
    if (slash == std::string::npos) {
        UniqueFd same(::fcntl(root, F_DUPFD_CLOEXEC, 0));
        if (!same.valid()) return sys_error("dup a directory descriptor");
        return same;
    }
    return open_beneath(root, path.substr(0, slash), O_PATH | O_DIRECTORY);
}

Status make_parents_beneath(int root, const std::string& path) {
    for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        std::string dir = path.substr(0, slash);
        std::string leaf;
        auto parent = open_parent_beneath(root, dir, leaf);
        if (!parent) return std::move(parent).error();
        if (::mkdirat(parent->get(), leaf.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + dir);
    }
    return {};
}

bool blocked_by_link(const Error& error) { return error.errnum == ELOOP || error.errnum == EXDEV; }

}  // namespace ghostpod::sandbox
