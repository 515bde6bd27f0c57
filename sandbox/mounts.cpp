#include "sandbox/mounts.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <fstream>
#include <sstream>
#include <vector>

#include "sandbox/beneath.hpp"
#include "sandbox/git_exclude.hpp"
#include "vault/fault.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {
namespace {

constexpr unsigned long kRamFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
// From <linux/mount.h>, which clashes with glibc's <sys/mount.h>.
constexpr unsigned kOpenTreeClone = 1;
constexpr unsigned kMoveMountFromEmptyPath = 0x00000004;
constexpr unsigned kMoveMountToEmptyPath = 0x00000040;
constexpr unsigned kAtRecursive = 0x8000;

// A bind mount of `name` below directory `from` (recursive, not following a last symlink) on
// `to`. By descriptor, not /proc/self/fd: a client that joined the ghost from outside is not in
// the pid namespace the ghost's /proc shows.
Status bind_at(int from, const std::string& name, const std::string& to, const std::string& what) {
    UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, from, name.c_str(),
                                             kOpenTreeClone | kAtRecursive | AT_SYMLINK_NOFOLLOW | O_CLOEXEC)));
    if (!tree.valid()) return sys_error("open_tree " + what);
    if (::syscall(SYS_move_mount, tree.get(), "", AT_FDCWD, to.c_str(), kMoveMountFromEmptyPath) != 0)
        return sys_error("move_mount " + what);
    return {};
}

Error mount_error(const std::string& what) { return sys_error(what); }

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

bool exists_nofollow(const std::string& path, struct stat& st) { return ::lstat(path.c_str(), &st) == 0; }

Status make_empty(const std::string& path, bool directory) {
    if (directory) {
        if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + path);
        return {};
    }
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return sys_error("create mount point " + path);
    return {};
}

std::vector<ShadowRecord>& shadow_registry() {
    static std::vector<ShadowRecord> made;
    return made;
}

// Replaces directory `dir` (in this mount namespace only) by a RAM directory that holds bind
// mounts of every real entry, so entries can be added without writing to the host.
Status shadow_directory(const std::string& dir, const std::string& shadow_area) {
    UniqueFd real(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!real.valid()) return sys_error("open " + dir);
    static int counter = 0;
    std::string shadow = shadow_area + "/" + std::to_string(++counter);
    if (::mkdir(shadow.c_str(), 0700) != 0) return sys_error("mkdir " + shadow);
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) ::chmod(shadow.c_str(), st.st_mode & 07777);
    if (::mount(shadow.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0)
        return mount_error("bind shadow over " + dir);
    shadow_registry().push_back({dir, shadow});
    // List the real directory through the descriptor opened before it was covered.
    UniqueFd listing(::openat(real.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!listing.valid()) return sys_error("list " + dir);
    DIR* d = ::fdopendir(listing.release());
    if (d == nullptr) return sys_error("list " + dir);
    Status result;
    while (dirent* ent = ::readdir(d)) {
        std::string name = ent->d_name;
        if (name == "." || name == "..") continue;
        std::string to = dir + "/" + name;
        struct stat est {};
        if (::fstatat(real.get(), name.c_str(), &est, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISLNK(est.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = ::readlinkat(real.get(), name.c_str(), target, sizeof target - 1);
            if (n < 0) continue;
            target[n] = '\0';
            if (::symlink(target, to.c_str()) != 0) result = sys_error("recreate symlink " + to);
        } else {
            result = make_empty(to, S_ISDIR(est.st_mode));
            if (result) result = bind_at(real.get(), name, to, dir + "/" + name + " into its shadow");
        }
        if (!result) break;
    }
    ::closedir(d);
    return result;
}

// A link at a mapped path (a dotfiles manager's ~/.kube/config -> ~/dotfiles/kube/config) is
// replaced in the ghost's view, never followed: its directory is shadowed (unless it is a RAM
// directory already), the link's copy there is removed and an empty file made in its place,
// the mount point returned. Where the link points (a file elsewhere, /etc/shadow, /proc, itself,
// nowhere) plays no part, and on disk the link and what it points to stay as they are.
Result<UniqueFd> replace_link(const RamArea& ram, const std::string& target) {
    std::string dir = parent_of(target), leaf = target.substr(target.rfind('/') + 1);
    struct stat area {}, st {};
    if (::stat(ram.shadow_area.c_str(), &area) != 0) return sys_error("stat " + ram.shadow_area);
    if (::stat(dir.c_str(), &st) != 0) return sys_error("stat " + dir);
    if (st.st_dev != area.st_dev) GP_TRY(shadow_directory(dir, ram.shadow_area));
    UniqueFd current(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!current.valid()) return sys_error("open " + dir);
    if (::fstat(current.get(), &st) != 0 || st.st_dev != area.st_dev)
        return make_error(ErrorCode::runtime, "place " + target, dir + " is not in the RAM mount after shadowing it");
    // Only the shadow's copy of the link goes; anything else there now is not ours to remove.
    if (::fstatat(current.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISLNK(st.st_mode)) return make_error(ErrorCode::runtime, "place " + target, "changed while it was placed");
        if (::unlinkat(current.get(), leaf.c_str(), 0) != 0) return sys_error("remove the ghost's copy of the link " + target);
    }
    UniqueFd at(::openat(current.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!at.valid()) return sys_error("create mount point " + target);
    return at;
}

}  // namespace

const std::vector<ShadowRecord>& shadows_made() { return shadow_registry(); }

Status make_mounts_private() {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return mount_error("make / private (MS_REC|MS_PRIVATE)");
    return {};
}

namespace {

// mountinfo escapes spaces, tabs, newlines and backslashes in paths as \ooo.
std::string unescape_mountinfo(const std::string& field) {
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}

// The entries of /proc that something is mounted over while they are not empty directories:
// what makes the kernel refuse a user namespace a proc mount of its own (mount_too_revealing:
// a new proc may not show what the visible one hides). Where the /proc mount can be cloned
// without its submounts, the covered entries show there. Where it cannot (submounts locked by
// an outer user namespace, as in a container), a mount over a file is certainly one; mounts on
// directories are named only when there is no such file.
std::vector<std::string> masked_proc_entries() {
    std::vector<std::string> files, dirs;
    std::ifstream mountinfo("/proc/self/mountinfo");
    UniqueFd bare(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, "/proc", kOpenTreeClone | O_CLOEXEC)));
    for (std::string line; std::getline(mountinfo, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point;
        fields >> id >> parent >> device >> root >> point;
        point = unescape_mountinfo(point);
        if (point.rfind("/proc/", 0) != 0) continue;
        struct stat shown {};
        bool over_file = ::lstat(point.c_str(), &shown) == 0 && !S_ISDIR(shown.st_mode);
        if (bare.valid() && !over_file) {
            struct stat st {};
            if (::fstatat(bare.get(), point.c_str() + 6, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
                UniqueFd dir(::openat(bare.get(), point.c_str() + 6, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
                DIR* listing = dir.valid() ? ::fdopendir(dir.release()) : nullptr;
                bool empty = listing != nullptr;
                while (dirent* d = listing ? ::readdir(listing) : nullptr)
                    if (std::string(d->d_name) != "." && std::string(d->d_name) != "..") empty = false;
                if (listing) ::closedir(listing);
                if (empty) continue;  // a mount on an empty directory hides nothing
            }
        }
        (over_file ? files : dirs).push_back(point);
    }
    if (files.empty() || bare.valid()) files.insert(files.end(), dirs.begin(), dirs.end());
    return files;
}

}  // namespace

Status mount_proc() {
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        Error e = mount_error("mount proc on /proc");
        if (e.errnum != EPERM) return e;
        auto masked = masked_proc_entries();
        if (masked.empty()) return e;
        std::string listed;
        for (std::size_t i = 0; i < masked.size() && i < 6; ++i) listed += (i ? ", " : "") + masked[i];
        if (masked.size() > 6) listed += ", …";
        e.why = "Operation not permitted (EPERM): this /proc has entries mounted over (" + listed +
                "), as containers mask it, and the kernel lets a user namespace mount a /proc of its own only where the "
                "visible one hides nothing";
        e.hint = "give the container an unmasked /proc (docker run --security-opt systempaths=unconfined, podman run "
                 "--security-opt unmask=ALL, Kubernetes procMount: Unmasked; bubblewrap: no --ro-bind or --tmpfs over "
                 "/proc entries), or run ghostpod as root with CAP_SYS_ADMIN there";
        return e;
    }
    return {};
}

Status mount_devpts() {
    if (::mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0)
        return mount_error("mount a devpts of the ghost's own on /dev/pts");
    return {};
}

Status mount_ram(const std::string& path, RamKind kind, std::uint64_t size_limit) {
    std::string tmpfs_options = "mode=0700,noswap,size=" + std::to_string(size_limit);
    int rc = GP_FAULT("session.ram_mount", ENOMEM) ? -1
           : kind == RamKind::ramfs ? ::mount("ghostpod", path.c_str(), "ramfs", kRamFlags, "mode=0700")
                                    : ::mount("ghostpod", path.c_str(), "tmpfs", kRamFlags, tmpfs_options.c_str());
    if (rc != 0) {
        Error e = mount_error(std::string("mount ") + (kind == RamKind::ramfs ? "ramfs" : "tmpfs (noswap)") + " on " + path);
        if (kind == RamKind::tmpfs_noswap && errno == EINVAL) e.hint = "tmpfs noswap needs Linux 6.4 or later; run ghostpod as a regular user (ramfs) instead";
        return e;
    }
    return {};
}

namespace {

// "\040" in /proc/PID/mountinfo is a space, and so on for tab, newline and backslash.
std::string unescape_mount_path(const std::string& field) {
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3') {
            out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}

// Mount points of mounts of the filesystem `dev` other than `dir` itself, parents first.
Result<std::vector<std::string>> mounts_of(int proc_self, dev_t dev, const std::string& dir) {
    UniqueFd fd(::openat(proc_self, "mountinfo", O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return sys_error("open mountinfo");
    std::vector<std::uint8_t> bytes;
    GP_TRY(read_to_end(fd.get(), bytes, 64u << 20, "read mountinfo"));
    std::string text(bytes.begin(), bytes.end());
    std::string want = std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
    std::vector<std::string> found;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        // "36 35 98:0 /mnt1 /mnt/parent rw ..." : id, parent, major:minor, root, mount point
        std::vector<std::string> f;
        for (std::size_t at = 0; f.size() < 5 && at < line.size();) {
            std::size_t sp = line.find(' ', at);
            f.push_back(line.substr(at, sp - at));
            at = sp == std::string::npos ? line.size() : sp + 1;
        }
        if (f.size() < 5 || f[2] != want) continue;
        std::string point = unescape_mount_path(f[4]);
        if (point == dir || point.rfind(dir + "/", 0) == 0) continue;
        found.push_back(point);
    }
    std::stable_sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
    return found;
}

}  // namespace

Status build_profile_view(const ProfileView& view, RamKind kind, int proc_self) {
    const std::string& dir = view.dir;
    struct stat ram {};
    if (::stat(dir.c_str(), &ram) != 0) return sys_error("stat " + dir);
    // Every shadow and placement the ghost made is a mount of the RAM mount's filesystem
    // somewhere else. Detached parents first: a shadowed directory takes the binds inside it
    // along, and the path then shows what is outside the ghost (the user's own file, or nothing).
    auto placed = mounts_of(proc_self, ram.st_dev, dir);
    if (!placed) return std::move(placed).error();
    for (const auto& point : *placed)
        if (::umount2(point.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL && errno != ENOENT)
            return mount_error("unmount " + point + " for the profile");
    auto left = mounts_of(proc_self, ram.st_dev, dir);
    if (!left) return std::move(left).error();
    if (!left->empty()) return make_error(ErrorCode::runtime, "take " + left->front() + " out of the profile's view", "it stays mounted");

    UniqueFd full(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!full.valid()) return sys_error("open " + dir);
    GP_TRY(mount_ram(dir, kind));
    for (const auto& name : view.keep) {
        std::string target = dir;
        for (std::size_t start = 0;;) {
            std::size_t slash = name.find('/', start);
            if (slash == std::string::npos) break;
            target = dir + "/" + name.substr(0, slash);
            GP_TRY(make_empty(target, true));
            start = slash + 1;
        }
        target = dir + "/" + name;
        GP_TRY(make_empty(target, false));
        GP_TRY(bind_at(full.get(), name, target, name + " into the profile"));
    }
    std::string shadow = dir + "/" + kShadowArea;
    if (::mkdir(shadow.c_str(), 0700) != 0) return sys_error("mkdir " + shadow);
    // A placement's source is resolved beneath the full RAM mount it was bound from: in the view
    // each kept entry is a mount of its own, which resolving beneath the view would refuse.
    RamArea area{full.get(), dir, shadow};
    GitExcludes excludes;  // the profile's own ghost-only files, out of git as in the ghost
    for (const auto& p : view.placements) {
        GP_TRY(place_file(area, dir + "/" + p.entry, p.target));
        GP_TRY(exclude_from_git(area, p.target, excludes));
    }
    // Read-only like the files in it: a profile's view is not a place to leave things.
    if (::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        return mount_error("make the profile view of " + dir + " read-only");
    return {};
}

Status place_file(const RamArea& ram, const std::string& source, const std::string& target) {
    if (target.empty() || target[0] != '/') return make_error(ErrorCode::usage, "place " + target, "not an absolute path");
    // The source is resolved beneath the RAM mount's root: a link planted there by a process in
    // the ghost is refused, not followed to a file elsewhere.
    std::string prefix = ram.dir + "/";
    if (source.rfind(prefix, 0) != 0) return make_error(ErrorCode::runtime, "place " + target, source + " is not in the RAM mount");
    auto from = open_beneath(ram.root, source.substr(prefix.size()), O_PATH);
    if (!from) return sys_error("place " + target + ": open " + source, from.error().errnum);
    struct stat st {};
    if (::fstat(from->get(), &st) != 0 || !S_ISREG(st.st_mode))
        return make_error(ErrorCode::runtime, "place " + target, source + " is not a regular file");
    UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, from->get(), "", kOpenTreeClone | AT_EMPTY_PATH | O_CLOEXEC)));
    if (!tree.valid()) return sys_error("open_tree " + source);
    // The mount point, held by descriptor from here on. Links in the existing part of the path
    // are the user's own (a ~/.config kept elsewhere); what ghostpod creates is created relative
    // to descriptors, never through a path something in the ghost could swap meanwhile.
    UniqueFd at;
    if (exists_nofollow(target, st) && S_ISLNK(st.st_mode)) {
        auto replaced = replace_link(ram, target);
        if (!replaced) return std::move(replaced).error();
        at = std::move(*replaced);
    } else if (exists_nofollow(target, st)) {
        if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::runtime, "place " + target, "exists and is not a regular file");
        at.reset(::open(target.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    } else {
        // Walk up to the nearest existing directory; shadow it; create the rest in RAM.
        std::vector<std::string> missing;
        std::string dir = parent_of(target);
        while (!exists_nofollow(dir, st)) {
            missing.push_back(dir);
            dir = parent_of(dir);
        }
        if (!S_ISDIR(st.st_mode)) return make_error(ErrorCode::runtime, "place " + target, dir + " is not a directory");
        if (dir == "/")
            return make_error(ErrorCode::usage, "place " + target, "its first directory does not exist, and / cannot be shadowed",
                              "map the secret to a path under an existing directory such as ~");
        // A directory already in the RAM mount (an earlier shadow) can take new entries as is.
        struct stat area {};
        if (::stat(ram.shadow_area.c_str(), &area) != 0) return sys_error("stat " + ram.shadow_area);
        if (st.st_dev != area.st_dev) GP_TRY(shadow_directory(dir, ram.shadow_area));
        UniqueFd current(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!current.valid()) return sys_error("open " + dir);
        if (::fstat(current.get(), &st) != 0 || st.st_dev != area.st_dev)
            return make_error(ErrorCode::runtime, "place " + target, dir + " is not in the RAM mount after shadowing it");
        for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
            std::string name = it->substr(it->rfind('/') + 1);
            if (::mkdirat(current.get(), name.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + *it);
            UniqueFd next(::openat(current.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!next.valid()) return sys_error("open " + *it);
            current = std::move(next);
        }
        std::string leaf = target.substr(target.rfind('/') + 1);
        at.reset(::openat(current.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    }
    if (!at.valid()) return sys_error("open mount point " + target);
    if (::syscall(SYS_move_mount, tree.get(), "", at.get(), "", kMoveMountFromEmptyPath | kMoveMountToEmptyPath) != 0)
        return mount_error("bind " + source + " on " + target);
    return {};
}

Status unplace_file(const std::string& target) {
    if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0) return mount_error("unmount " + target);
    // A refreshed secret stacks a new bind on the old one: take them all off.
    while (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
    }
    return {};
}

}  // namespace ghostpod::sandbox
