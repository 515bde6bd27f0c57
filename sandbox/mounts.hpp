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

// For a profile's view, in a mount namespace of the caller's own (after unshare): unmounts
// every path in `hide`, then covers `dir` with a RAM mount that holds bind mounts of only the
// `keep` entries (paths relative to `dir`) of what was there.
Status restrict_view(const std::string& dir, const std::vector<std::string>& keep, const std::vector<std::string>& hide,
                     RamKind kind);

}  // namespace ghostpod::sandbox
