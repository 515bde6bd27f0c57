#include "pod/cli/program.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace ghostpod {
namespace {

HandOver g_hand_over = nullptr;

}  // namespace

void set_hand_over(HandOver hand_over) { g_hand_over = hand_over; }

bool is_front() { return g_hand_over != nullptr; }

void hand_over_if_front(const std::string& why) {
    if (g_hand_over) g_hand_over(why);
}

bool front_serves(const std::string& command) {
    // Each of these joins (or asks) a running session without the module's code, and hands a
    // start of a session over (join_or_start) before it unlocks or reads anything. Should one
    // of them reach a module function in the front after all, the front hands the command over
    // from there (pod/front.cpp); the integration tests run every command through the front.
    for (const char* served : {"run", "shell", "enter", "status", "lock", "help"})
        if (command == served) return true;
    return false;
}

std::string own_directory() {
    char path[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return "";
    std::string exe(path, static_cast<std::size_t>(n));
    // An executable replaced while it runs (an upgrade) reads "... (deleted)": what is beside it
    // then is the new build's (the module's build token refuses a mismatch).
    if (const std::string deleted = " (deleted)"; exe.size() > deleted.size() && exe.ends_with(deleted))
        exe.resize(exe.size() - deleted.size());
    return exe.substr(0, exe.rfind('/'));
}

namespace {

// Who may own a file ghostpod trusts as its own code: root, this user, or whoever owns the
// executable already running (`self`, its stat). (In a user namespace that does not map root,
// as a rootless ghost, root-owned files show the overflow uid; so may any other user's, which
// is why every directory on the way must also be writable by no one else.)
bool trusted_owner(const struct stat& st, const struct stat& self) {
    return st.st_uid == 0 || st.st_uid == ::geteuid() || (self.st_ino != 0 && self.st_uid == st.st_uid);
}

bool trusted_directory(int fd, const struct stat& self) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && trusted_owner(st, self) && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

int open_beneath(int dir, const std::string& name, std::uint64_t flags) {
    struct open_how how {};
    how.flags = flags | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, dir, name.c_str(), &how, sizeof how));
}

}  // namespace

Result<UniqueFd> open_own_file(const std::vector<OwnFile>& candidates, const std::string& verb, const std::string& owner_name,
                               const std::string& missing_what, const std::string& missing_why, const std::string& missing_hint,
                               std::string& path) {
    struct stat self {};
    if (::stat("/proc/self/exe", &self) != 0) self = {};  // then only root's and this user's files count
    for (const OwnFile& candidate : candidates) {
        UniqueFd dir(::open(candidate.start.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        bool usable = dir.valid() && trusted_directory(dir.get(), self);
        std::string rest = candidate.below;
        for (std::size_t slash; usable && (slash = rest.find('/')) != std::string::npos; rest.erase(0, slash + 1)) {
            UniqueFd next(open_beneath(dir.get(), rest.substr(0, slash), O_PATH | O_DIRECTORY));
            usable = next.valid() && trusted_directory(next.get(), self);
            dir = std::move(next);
        }
        if (!usable) continue;  // absent, or on a way someone else could have laid
        UniqueFd fd(open_beneath(dir.get(), rest, O_RDONLY));
        if (!fd.valid()) {
            if (errno == ENOENT) continue;
            return sys_error("open " + candidate.display());
        }
        path = candidate.display();
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + path);
        if (self.st_ino != 0 && self.st_dev == st.st_dev && self.st_ino == st.st_ino)
            return make_error(ErrorCode::runtime, verb + " " + path, "it is this program itself", "reinstall ghostpod");
        if (!S_ISREG(st.st_mode) || !trusted_owner(st, self) || (st.st_mode & (S_IWGRP | S_IWOTH)))
            return make_error(ErrorCode::runtime, verb + " " + path,
                              "it is not a regular file owned by root, by you or by " + owner_name + " and writable by no one else",
                              "reinstall ghostpod, or fix the file's owner and mode");
        return fd;
    }
    return make_error(ErrorCode::runtime, missing_what, missing_why, missing_hint);
}

}  // namespace ghostpod
