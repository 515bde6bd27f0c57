#include "sandbox/seccomp.hpp"

#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <linux/userfaultfd.h>

#include <cerrno>

#include "vault/fault.hpp"

namespace ghostpod::sandbox {

namespace {

// libseccomp's SCMP_A0/SCMP_A1 macros are C compound literals, which C++ compilers other than
// GCC reject under -Wpedantic; this is the same comparison as a C++ aggregate.
scmp_arg_cmp arg_masked_eq(unsigned int arg, scmp_datum_t mask, scmp_datum_t value) {
    return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, value};
}

}  // namespace

Status install_seccomp_filter() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sys_error("prctl PR_SET_NO_NEW_PRIVS");
    scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == nullptr) return make_error(ErrorCode::runtime, "seccomp_init", "out of memory");
    const auto deny = SCMP_ACT_ERRNO(EPERM);
    int rc = 0;
    for (int nr : {SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev), SCMP_SYS(kexec_load),
                   SCMP_SYS(kexec_file_load), SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd)})
        rc = rc ? rc : ::seccomp_rule_add(ctx, deny, nr, 0);
    rc = rc ? rc : ::seccomp_rule_add(ctx, deny, SCMP_SYS(unshare), 1, arg_masked_eq(0, CLONE_NEWUSER, CLONE_NEWUSER));
    rc = rc ? rc : ::seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1, arg_masked_eq(0, CLONE_NEWUSER, CLONE_NEWUSER));
    rc = rc ? rc : ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    // TIOCSCTTY and TIOCSETD: no command takes a terminal as its controlling one or changes its
    // line discipline (a command on a pty of its own got it before this filter).
    // USERFAULTFD_IOC_NEW on /dev/userfaultfd makes the userfaultfd the syscall rule denies.
    for (unsigned long request : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX),
                                  static_cast<unsigned long>(TIOCSCTTY), static_cast<unsigned long>(TIOCSETD),
                                  static_cast<unsigned long>(USERFAULTFD_IOC_NEW)})
        rc = rc ? rc : ::seccomp_rule_add(ctx, deny, SCMP_SYS(ioctl), 1, arg_masked_eq(1, 0xffffffffu, request));
    rc = rc ? rc : GP_FAULT("session.seccomp", EINVAL) ? -EINVAL : ::seccomp_load(ctx);
    ::seccomp_release(ctx);
    if (rc != 0) return sys_error("install the seccomp filter", -rc);
    return {};
}

}  // namespace ghostpod::sandbox
