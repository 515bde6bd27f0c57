// Installing the holder's seccomp program (a client after attaching, ghost init for a profile's
// command): plain BPF through the seccomp system call, so the join path needs no libseccomp.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/seccomp.hpp"
#include "vault/fault.hpp"

namespace ghostpod::sandbox {
namespace {

std::vector<std::uint8_t>& program_in_use() {
    static std::vector<std::uint8_t> program;
    return program;
}

Error bad_program(const std::string& why) { return make_error(ErrorCode::session, "check the session's seccomp filter", why); }

}  // namespace

Status check_seccomp_program(std::span<const std::uint8_t> program) {
    if (program.empty() || program.size() % sizeof(sock_filter) != 0)
        return bad_program("its length (" + std::to_string(program.size()) + " bytes) is no whole number of instructions");
    std::size_t count = program.size() / sizeof(sock_filter);
    if (count > BPF_MAXINSNS) return bad_program("it has " + std::to_string(count) + " instructions, more than the kernel takes");
    sock_filter first{}, last{};
    std::memcpy(&first, program.data(), sizeof first);
    std::memcpy(&last, program.data() + program.size() - sizeof last, sizeof last);
    if (first.code != (BPF_LD | BPF_W | BPF_ABS) || first.k != offsetof(seccomp_data, arch))
        return bad_program("it does not begin by checking the architecture");
    if (BPF_CLASS(last.code) != BPF_RET) return bad_program("it does not end in a return");
    return {};
}

Status use_seccomp_program(std::vector<std::uint8_t> program) {
    GP_TRY(check_seccomp_program(program));
    program_in_use() = std::move(program);
    return {};
}

const std::vector<std::uint8_t>& seccomp_program() { return program_in_use(); }

Status install_seccomp_program(std::span<const std::uint8_t> program) {
    if (program.empty())
        return make_error(ErrorCode::runtime, "install the seccomp filter", "this process received no filter from the session");
    GP_TRY(check_seccomp_program(program));
    // Copied to instructions of their own: the bytes carry no alignment.
    std::vector<sock_filter> instructions(program.size() / sizeof(sock_filter));
    std::memcpy(instructions.data(), program.data(), program.size());
    sock_fprog fprog{static_cast<unsigned short>(instructions.size()), instructions.data()};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sys_error("prctl PR_SET_NO_NEW_PRIVS");
    if (GP_FAULT("session.seccomp", EINVAL) || ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
        return sys_error("install the seccomp filter");
    return {};
}

}  // namespace ghostpod::sandbox
