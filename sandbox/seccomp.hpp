// What every command started in the ghost gets before exec: no_new_privs, no capabilities,
// a seccomp denylist, no core dumps, no inherited descriptors beyond 0-2.
#pragma once

#include "vault/result.hpp"

namespace ghostpod::sandbox {

// Drops every capability: bounding set, ambient set, then effective/permitted/inheritable.
Status drop_capabilities();
// Denies (EPERM): ptrace, process_vm_readv/writev, kexec_load/kexec_file_load, bpf,
// perf_event_open, userfaultfd, new user namespaces (unshare/clone with CLONE_NEWUSER; clone3 is
// answered ENOSYS so libc falls back to clone, whose flags can be inspected), and ioctl
// TIOCSTI / TIOCLINUX (matched on the low 32 bits of the request, as the kernel does).
// Sets no_new_privs first, as seccomp requires for an unprivileged filter.
Status install_seccomp_filter();
// Closes every descriptor from `first` up.
Status close_descriptors_from(int first);
// All of the above plus RLIMIT_CORE 0, in the order they must happen.
Status harden_command();

}  // namespace ghostpod::sandbox
