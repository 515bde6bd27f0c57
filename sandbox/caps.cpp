#include "sandbox/caps.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>
#include <string>

namespace ghostpod::sandbox {

Status drop_capabilities() {
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        // One already gone (a command in the ghost running ghostpod, which has no CAP_SETPCAP
        // to drop anything) stays gone.
        if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            return sys_error("drop capability " + std::to_string(cap) + " from the bounding set");
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return sys_error("clear ambient capabilities");
    cap_t none = ::cap_init();
    if (none == nullptr) return sys_error("cap_init");
    int rc = ::cap_set_proc(none);
    int saved = errno;
    ::cap_free(none);
    if (rc != 0) return sys_error("drop all capabilities (capset)", saved);
    return {};
}

}  // namespace ghostpod::sandbox
