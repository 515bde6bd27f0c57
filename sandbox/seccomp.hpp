// The seccomp denylist every command in the ghost runs under.
#pragma once

#include "vault/result.hpp"

namespace ghostpod::sandbox {

// Denies (EPERM): ptrace, process_vm_readv/writev, kexec_load/kexec_file_load, bpf,
// perf_event_open, userfaultfd, new user namespaces (unshare/clone with CLONE_NEWUSER; clone3 is
// answered ENOSYS so libc falls back to clone, whose flags can be inspected), and ioctl
// TIOCSTI, TIOCLINUX, TIOCSCTTY, TIOCSETD and USERFAULTFD_IOC_NEW (matched on the low 32 bits
// of the request, as the kernel does).
// Sets no_new_privs first, as seccomp requires for an unprivileged filter.
Status install_seccomp_filter();

}  // namespace ghostpod::sandbox
