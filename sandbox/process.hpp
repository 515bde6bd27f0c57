// Process-wide protections for any process that holds key material.
#pragma once

#include "vault/result.hpp"

namespace ghostpod::sandbox {

// RLIMIT_CORE 0 and PR_SET_DUMPABLE 0 (no core dumps; /proc/PID/mem and ptrace closed to
// other same-uid processes), and RLIMIT_MEMLOCK raised to its hard limit so secret memory
// can be locked.
Status harden_process();

// RLIMIT_MEMLOCK soft limit in bytes (RLIM_INFINITY as SIZE_MAX).
std::size_t memlock_limit();
bool core_dumps_disabled();

}  // namespace ghostpod::sandbox
