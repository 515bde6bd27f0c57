// User namespaces: the identity uid/gid map that makes the operator themselves inside the ghost.
#pragma once

#include <sys/types.h>

#include "vault/result.hpp"

namespace ghostpod::sandbox {

// Run by a process that has just entered a new user namespace: denies setgroups and maps
// `uid` and `gid` to themselves (the only mapping an unprivileged process may write).
// The process must be dumpable while it writes its own /proc/self maps; it is made
// non-dumpable again before returning.
Status map_self(uid_t uid, gid_t gid);

}  // namespace ghostpod::sandbox
