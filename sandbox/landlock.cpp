#include "sandbox/landlock.hpp"

#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {
namespace {

// struct landlock_ruleset_attr as of ABI 6; the system's <linux/landlock.h> may predate its
// later fields. The kernel takes a longer struct than it knows when the extra fields are zero.
struct RulesetAttr {
    std::uint64_t handled_access_fs;
    std::uint64_t handled_access_net;  // ABI 4
    std::uint64_t scoped;              // ABI 6
};
constexpr std::uint64_t kScopeSignal = 1ULL << 1;  // LANDLOCK_SCOPE_SIGNAL

}  // namespace

int landlock_abi() {
    long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : static_cast<int>(abi);
}

Result<Domain> enter_own_landlock_domain() {
    int abi = landlock_abi();
    if (abi == 0) return Domain::unavailable;
    // A ruleset must handle some access; making block devices is one every ABI knows, and
    // without a rule granting it, denied everywhere. Fields the kernel's ABI lacks stay zero.
    RulesetAttr attr{};
    attr.handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_BLOCK;
    if (abi >= kLandlockSignalScopeAbi) attr.scoped = kScopeSignal;
    UniqueFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)));
    if (!ruleset.valid()) return sys_error("create a Landlock ruleset for the command");
    if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) return sys_error("enter a Landlock domain of its own (landlock_restrict_self)");
    return Domain::own;
}

}  // namespace ghostpod::sandbox
