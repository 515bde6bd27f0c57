// Who is on the other end of a unix socket: its uid (SO_PEERCRED) and where it runs relative to
// the ghost, told by its namespaces. The peer's pid is pinned with a pidfd (SO_PEERPIDFD, else
// pidfd_open) before /proc/PID is read, so a pid reused by another process is never taken for it.
#pragma once

#include <sys/types.h>

#include "vault/result.hpp"

namespace ghostpod::sandbox {

// A namespace's identity: the nsfs inode (and device) its file descriptors stat to.
struct NsId {
    dev_t dev = 0;
    ino_t ino = 0;
    bool valid() const { return ino != 0; }
    bool operator==(const NsId&) const = default;
};

// The namespace `fd` (a /proc/PID/ns/* file or an nsfs descriptor) refers to; invalid when it
// is not a namespace of type `nstype` (CLONE_NEWNS, CLONE_NEWPID, ...).
NsId namespace_id(int fd, int nstype);

enum class PeerPlace {
    outside,  // not below the holder's pid namespace's level: not in the ghost
    ghost,    // in the ghost's own pid and mount namespaces: the full view
    nested,   // below the holder, not the full ghost: a profile's view, or something unknown
};

struct Peer {
    uid_t uid = 0;
    pid_t pid = 0;  // in the holder's pid namespace
    PeerPlace place = PeerPlace::outside;
    NsId mnt;       // the peer's mount namespace when nested (invalid: could not be read)
};

// Identifies the peer of connected socket `conn` against the ghost's pid and mount namespace
// descriptors. Fails when the peer is gone or its uid differs from ours (in SO_PEERCRED or now).
Result<Peer> identify_peer(int conn, int ghost_pid_ns, int ghost_mnt_ns);

}  // namespace ghostpod::sandbox
