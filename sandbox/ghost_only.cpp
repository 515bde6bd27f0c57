// Files that exist only in the ghost's shadowed directories (sandbox/mounts.hpp): walked in the
// mount namespace that made the shadows, where a stat crosses into what is mounted on an entry.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "sandbox/beneath.hpp"
#include "sandbox/mounts.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {
namespace {

constexpr int kMaxDepth = 16;
constexpr std::size_t kMaxListedBytes = 256u << 10;  // one frame to the holder holds them all

struct Walk {
    dev_t ram = 0;
    std::size_t limit = 0;
    std::size_t bytes = 0;
    std::vector<std::string> found;
    bool full() const { return found.size() >= limit || bytes >= kMaxListedBytes; }
};

// An entry is a mount point when a stat of it crosses into something else: another file system
// (a real entry bound in) or another inode than the directory lists (a placement from the RAM
// mount). What is left is what was created in the shadow itself.
Status walk(int dir, const std::string& shown, int depth, Walk& w) {
    if (depth > kMaxDepth) return {};
    UniqueFd own(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR* listing = own.valid() ? ::fdopendir(own.get()) : nullptr;
    if (listing == nullptr) return sys_error("list " + shown);
    (void)own.release();  // closedir closes it
    std::vector<std::pair<std::string, ino_t>> entries;
    while (dirent* d = ::readdir(listing)) {
        std::string n = d->d_name;
        if (n != "." && n != "..") entries.emplace_back(n, d->d_ino);
    }
    ::closedir(listing);
    std::sort(entries.begin(), entries.end());
    for (const auto& [name, listed] : entries) {
        if (w.full()) return {};
        struct stat st {};
        if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
        if (st.st_dev != w.ram || st.st_ino != listed) continue;
        std::string path = shown + "/" + name;
        if (S_ISDIR(st.st_mode)) {
            // Beneath the directory: a link put in the entry's place meanwhile is not followed.
            if (auto sub = open_beneath(dir, name, O_RDONLY | O_DIRECTORY)) GP_TRY(walk(sub->get(), path, depth + 1, w));
        } else if (S_ISREG(st.st_mode)) {
            w.bytes += path.size();
            w.found.push_back(std::move(path));
        }
    }
    return {};
}

}  // namespace

Result<std::vector<std::string>> ghost_only_files(std::size_t limit) {
    Walk w;
    w.limit = limit;
    for (const auto& record : shadows_made()) {
        UniqueFd shadow(::open(record.shadow.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!shadow.valid()) return sys_error("open " + record.shadow);
        struct stat own {};
        if (::fstat(shadow.get(), &own) != 0) return sys_error("stat " + record.shadow);
        w.ram = own.st_dev;
        // The directory as the ghost sees it must still be the shadow (a mount point cannot be
        // replaced inside; a later shadow of a parent can cover it, and shows it through a bind).
        UniqueFd shown(::open(record.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        struct stat seen {};
        if (!shown.valid() || ::fstat(shown.get(), &seen) != 0 || seen.st_dev != own.st_dev || seen.st_ino != own.st_ino) continue;
        GP_TRY(walk(shown.get(), record.dir, 0, w));
    }
    return w.found;
}

}  // namespace ghostpod::sandbox
