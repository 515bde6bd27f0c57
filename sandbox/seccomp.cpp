// Compiling the denylist with libseccomp (the holder, once per session). Installing it is
// sandbox/seccomp_install.cpp's, which needs no libseccomp.
#include "sandbox/seccomp.hpp"

#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include <cerrno>
#include <memory>

#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {

namespace {

// libseccomp's SCMP_A0/SCMP_A1 macros are C compound literals, which C++ compilers other than
// GCC reject under -Wpedantic; this is the same comparison as a C++ aggregate.
scmp_arg_cmp arg_masked_eq(unsigned int arg, scmp_datum_t mask, scmp_datum_t value) {
    return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, value};
}

struct ReleaseFilter {
    void operator()(void* ctx) const { ::seccomp_release(ctx); }
};

}  // namespace

Result<std::vector<std::uint8_t>> compile_seccomp_filter() {
    std::unique_ptr<void, ReleaseFilter> ctx(::seccomp_init(SCMP_ACT_ALLOW));
    if (!ctx) return make_error(ErrorCode::runtime, "seccomp_init", "out of memory");
    const auto deny = SCMP_ACT_ERRNO(EPERM);
    int rc = 0;
    for (int nr : {SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev), SCMP_SYS(kexec_load),
                   SCMP_SYS(kexec_file_load), SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd)})
        rc = rc ? rc : ::seccomp_rule_add(ctx.get(), deny, nr, 0);
    rc = rc ? rc : ::seccomp_rule_add(ctx.get(), deny, SCMP_SYS(unshare), 1, arg_masked_eq(0, CLONE_NEWUSER, CLONE_NEWUSER));
    rc = rc ? rc : ::seccomp_rule_add(ctx.get(), deny, SCMP_SYS(clone), 1, arg_masked_eq(0, CLONE_NEWUSER, CLONE_NEWUSER));
    rc = rc ? rc : ::seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    // TIOCSCTTY and TIOCSETD: no command takes a terminal as its controlling one or changes its
    // line discipline (a command on a pty of its own got it before this filter).
    // USERFAULTFD_IOC_NEW on /dev/userfaultfd makes the userfaultfd the syscall rule denies.
    for (unsigned long request : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX),
                                  static_cast<unsigned long>(TIOCSCTTY), static_cast<unsigned long>(TIOCSETD),
                                  static_cast<unsigned long>(USERFAULTFD_IOC_NEW)})
        rc = rc ? rc : ::seccomp_rule_add(ctx.get(), deny, SCMP_SYS(ioctl), 1, arg_masked_eq(1, 0xffffffffu, request));
    if (rc != 0) return sys_error("compile the seccomp filter", -rc);
    // libseccomp 2.5 exports the program only to a descriptor.
    UniqueFd out(::memfd_create("ghostpod-seccomp", MFD_CLOEXEC));
    if (!out.valid()) return sys_error("memfd_create for the seccomp filter");
    if ((rc = ::seccomp_export_bpf(ctx.get(), out.get())) != 0) return sys_error("export the seccomp filter", -rc);
    off_t size = ::lseek(out.get(), 0, SEEK_END);
    if (size <= 0 || ::lseek(out.get(), 0, SEEK_SET) != 0) return sys_error("read back the seccomp filter");
    std::vector<std::uint8_t> program(static_cast<std::size_t>(size));
    if (::pread(out.get(), program.data(), program.size(), 0) != size) return sys_error("read back the seccomp filter");
    GP_TRY(check_seccomp_program(program));
    return program;
}

}  // namespace ghostpod::sandbox
