// The ghost: a private user + mount + pid + ipc namespace whose pid 1 ("ghost init") holds a
// RAM mount. Ghost init is cloned from the holder before the holder has received or unlocked any
// secret (the launcher hands the credential over only once the ghost is ready, and a clone sees
// secret memory wiped, see vault/secret_buffer.hpp), so it never holds one; the holder writes
// files into the RAM mount through a directory descriptor ghost init hands it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/mounts.hpp"
#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {

struct GhostSpec {
    std::string mount_dir;  // an empty host directory; the RAM mount appears there inside only
    uid_t uid = 0;
    gid_t gid = 0;
    bool real_root = false;  // no user namespace; tmpfs with noswap instead of ramfs
    std::uint64_t ram_limit = 64u << 20;  // the tmpfs size (ramfs: enforced by the writer)
};

struct Ghost {
    pid_t pid = -1;       // ghost init, in the holder's pid namespace
    UniqueFd channel;     // requests to ghost init
    UniqueFd root_dir;    // the RAM mount's root directory
    UniqueFd ns_user;     // invalid when real_root
    UniqueFd ns_mnt;
    UniqueFd ns_pid;
    UniqueFd ns_ipc;
    UniqueFd pidfd;       // ghost init's, to kill it and see it exit
    UniqueFd proc;        // the ghost's /proc, to see what is left when it ends
    RamKind ram = RamKind::ramfs;
};

// Clones ghost init and waits until its namespaces and RAM mount are ready.
Result<Ghost> start_ghost(const GhostSpec& spec);
// Asks ghost init to make `source` (a path in the RAM mount) appear at `target` (absolute).
Status place_in_ghost(Ghost& ghost, const std::string& source, const std::string& target);
// Asks ghost init to remove every placement at `target` (the path shows what it hid again).
Status unplace_in_ghost(Ghost& ghost, const std::string& target);
// Asks ghost init to start a command in a profile's view (see sandbox/spawn.hpp): `fds` are the
// command's stdin, stdout, stderr, its control socket and its command pipe. Returns the
// profile's mount namespace once the view stands.
Result<UniqueFd> spawn_in_ghost(Ghost& ghost, const ProfileView& view, const std::vector<int>& fds);
// Asks ghost init for the files that exist only in the directories it shadowed
// (ghost_only_files in sandbox/mounts.hpp).
Result<std::vector<std::string>> ghost_only_files_in(Ghost& ghost);
// Kills ghost init (and with it every process in the ghost) and reaps it; returns once nothing
// in the ghost runs any more, even where a zombie outside ghostpod's reach keeps ghost init
// from finishing its exit.
void stop_ghost(Ghost& ghost);

// Joins the ghost's namespaces (user, mount, ipc, pid) from passed descriptors. The caller must
// be single-threaded; the pid namespace applies to its children. `outside`: the holder placed
// the caller outside the ghost, so it joins without first reading which it is already in.
Status join_ghost(int ns_user, int ns_mnt, int ns_ipc, int ns_pid, bool outside);

}  // namespace ghostpod::sandbox
