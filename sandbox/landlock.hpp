// Landlock: every command started in the ghost (run, shell, enter) gets a Landlock domain of its
// own. The kernel lets a process ptrace, or open /proc/PID/mem of, only processes in its own or
// a nested domain (and, from ABI 6, signal only those), so one command cannot read or write the
// memory of another command's processes although they share the ghost's uid and pid namespace.
// A command and everything it starts (a shell and its programs) share one domain.
#pragma once

#include "vault/result.hpp"

namespace ghostpod::sandbox {

// The Landlock ABI version the kernel offers, 0 when it has none (or it is disabled).
int landlock_abi();
// The ABI from which a domain also scopes signals (LANDLOCK_SCOPE_SIGNAL).
inline constexpr int kLandlockSignalScopeAbi = 6;

enum class Domain { own, unavailable };

// Puts this process (and all it starts) in a new Landlock domain that restricts nothing on the
// file system beyond making block devices, which a command without capabilities cannot anyway:
// the domain is there for its scope. Needs no_new_privs set. `unavailable` (no error) where the
// kernel has no Landlock.
Result<Domain> enter_own_landlock_domain();

}  // namespace ghostpod::sandbox
