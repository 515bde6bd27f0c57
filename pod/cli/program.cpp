#include "pod/cli/program.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace ghostpod {
namespace {

HandOver g_hand_over = nullptr;

}  // namespace

void set_hand_over(HandOver hand_over) { g_hand_over = hand_over; }

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

Result<UniqueFd> open_own_file(const std::vector<std::string>& candidates, const std::string& verb, const std::string& owner_name,
                               const std::string& missing_what, const std::string& missing_why, const std::string& missing_hint,
                               std::string& path) {
    for (const std::string& candidate : candidates) {
        UniqueFd fd(::open(candidate.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (!fd.valid()) {
            if (errno == ENOENT) continue;
            return sys_error("open " + candidate);
        }
        path = candidate;
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + candidate);
        // The running executable's owner counts as root does: the file is then trusted exactly
        // as the code already running is. (In a user namespace that does not map root, as a
        // rootless ghost, root-owned files all show the overflow uid.)
        struct stat exe {};
        bool same_owner = ::stat("/proc/self/exe", &exe) == 0 && exe.st_uid == st.st_uid;
        if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != ::geteuid() && !same_owner) || (st.st_mode & (S_IWGRP | S_IWOTH)))
            return make_error(ErrorCode::runtime, verb + " " + candidate,
                              "it is not a regular file owned by root, by you or by " + owner_name + " and writable by no one else",
                              "reinstall ghostpod, or fix the file's owner and mode");
        return fd;
    }
    return make_error(ErrorCode::runtime, missing_what, missing_why, missing_hint);
}

}  // namespace ghostpod
