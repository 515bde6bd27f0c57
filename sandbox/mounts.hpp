// Mounts inside the ghost's mount namespace: private propagation, a fresh /proc, the RAM
// mount, and credential files placed at their standard paths without touching the host.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vault/result.hpp"

namespace ghostpod::sandbox {

enum class RamKind { ramfs, tmpfs_noswap };

// Nothing mounted in the ghost propagates back to the host (and vice versa).
Status make_mounts_private();
// A /proc that shows only the ghost's pid namespace.
Status mount_proc();
// A devpts of the ghost's own on /dev/pts (and so behind /dev/ptmx): the commands' ptys come
// from it, and the user's terminals (the host's /dev/pts/N) cannot be opened by path inside.
Status mount_devpts();
// The RAM mount at `path`: mode 0700, nosuid, nodev, noexec. ramfs inside a user namespace
// (tmpfs there refuses noswap); tmpfs with noswap when running as real root.
// `size_limit` bounds a tmpfs; ramfs has no limit of its own.
Status mount_ram(const std::string& path, RamKind kind, std::uint64_t size_limit = 64u << 20);
// Makes `source` (a file in the RAM mount) appear at `target`. An existing file is covered by
// a bind mount. A missing one needs its directory to gain an entry, which must not change the
// host: the nearest existing ancestor is shadowed by a RAM directory holding bind mounts of all
// its real entries, and the missing part of the path is created inside the shadow.
// `ram` is the RAM mount: `source` must be a file in it, resolved beneath its root (no link,
// no other mount on the way); its shadow area holds those shadows.
struct RamArea {
    int root = -1;            // the RAM mount's root directory
    std::string dir;          // its path
    std::string shadow_area;  // a directory in it for shadows
};
Status place_file(const RamArea& ram, const std::string& source, const std::string& target);
// Unmounts every bind stacked on `target` by place_file.
Status unplace_file(const std::string& target);

// A profile's view of the ghost: which entries of $GHOSTPOD_DIR it gets, and where they appear.
struct ProfilePlacement {
    std::string entry;   // relative to `dir`
    std::string target;  // absolute
};
struct ProfileView {
    std::string dir;  // $GHOSTPOD_DIR
    std::vector<std::string> keep;
    std::vector<ProfilePlacement> placements;
};

// The directory in the RAM mount that holds place_file's shadows.
inline constexpr char kShadowArea[] = ".ghostpod-shadow";

// The directories place_file shadowed in this process's mount namespace (ghost init's).
struct ShadowRecord {
    std::string dir;     // as the ghost sees it
    std::string shadow;  // its RAM directory
};
const std::vector<ShadowRecord>& shadows_made();
// Regular files in those directories that are no mount point (neither a real entry bound in
// nor a placement): what tools created there, which lives in the RAM mount only and goes with
// the ghost. Paths as the ghost sees them, at most `limit` (sandbox/ghost_only.cpp).
Result<std::vector<std::string>> ghost_only_files(std::size_t limit);

// Builds a profile's view in a mount namespace of the caller's own (a copy of the ghost's, after
// unshare): takes off every placement and shadow the ghost made, so that their paths are as
// they are outside the ghost (no empty file where another secret was); covers `dir` with a RAM
// mount holding bind mounts of only the `keep` entries; places the profile's own placements
// anew (shadows in that RAM mount); makes `dir` read-only. `proc_self` is a descriptor of the
// caller's /proc/PID directory (its mountinfo), which the ghost's /proc may not show.
Status build_profile_view(const ProfileView& view, RamKind kind, int proc_self);

}  // namespace ghostpod::sandbox
