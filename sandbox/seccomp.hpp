// The seccomp denylist every command in the ghost runs under: compiled once per session by the
// holder (libseccomp), handed to each joining client as a BPF program, installed before exec.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vault/result.hpp"

namespace ghostpod::sandbox {

// Compiles the denylist into the program the kernel takes (struct sock_filter instructions, as
// bytes). Denies (EPERM): ptrace, process_vm_readv/writev, kexec_load/kexec_file_load, bpf,
// perf_event_open, userfaultfd, new user namespaces (unshare/clone with CLONE_NEWUSER; clone3 is
// answered ENOSYS so libc falls back to clone, whose flags can be inspected), and ioctl
// TIOCSTI, TIOCLINUX, TIOCSCTTY, TIOCSETD and USERFAULTFD_IOC_NEW (matched on the low 32 bits
// of the request, as the kernel does). A foreign architecture's system calls kill the process.
// The only user of libseccomp: it lives in the lazily loaded module (pod/net_module.cpp).
Result<std::vector<std::uint8_t>> compile_seccomp_filter();

// The checks a received program must pass before it is installed: a whole number of
// instructions, at most BPF_MAXINSNS, starting with the load of seccomp_data.arch that the
// architecture check begins with and ending in a return. (The kernel checks the rest.)
Status check_seccomp_program(std::span<const std::uint8_t> program);

// The program exec_command installs in this process and the processes it forks from now on:
// the holder's, which ghost init inherits, or the one a client received when it attached.
Status use_seccomp_program(std::vector<std::uint8_t> program);
const std::vector<std::uint8_t>& seccomp_program();

// Sets no_new_privs, as an unprivileged filter requires, and installs `program` (checked first)
// with seccomp(SECCOMP_SET_MODE_FILTER).
Status install_seccomp_program(std::span<const std::uint8_t> program);

}  // namespace ghostpod::sandbox
