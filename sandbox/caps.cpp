#include "sandbox/caps.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace ghostpod::sandbox {

Status drop_capabilities() {
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 || errno == EINVAL) continue;  // EINVAL: not in this kernel
        // One already gone (a command in the ghost running ghostpod, which has no CAP_SETPCAP
        // to drop anything) stays gone.
        if (errno == EPERM && ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0) continue;
        return sys_error("drop capability " + std::to_string(cap) + " from the bounding set");
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return sys_error("clear ambient capabilities");
    // Effective, permitted and inheritable all empty; the system call itself, as libcap's
    // cap_set_proc would make it, so that every ghostpod process maps one library fewer.
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capset, &header, none) != 0) return sys_error("drop all capabilities (capset)");
    return {};
}

}  // namespace ghostpod::sandbox
