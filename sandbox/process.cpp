#include "sandbox/process.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdint>

namespace ghostpod::sandbox {

Status harden_process() {
    struct rlimit none {0, 0};
    if (::setrlimit(RLIMIT_CORE, &none) != 0) return sys_error("setrlimit RLIMIT_CORE 0");
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return sys_error("prctl PR_SET_DUMPABLE 0");
    struct rlimit memlock {};
    if (::getrlimit(RLIMIT_MEMLOCK, &memlock) == 0 && memlock.rlim_cur < memlock.rlim_max) {
        memlock.rlim_cur = memlock.rlim_max;
        (void)::setrlimit(RLIMIT_MEMLOCK, &memlock);  // a higher limit is a bonus, not a requirement
    }
    return {};
}

std::size_t memlock_limit() {
    struct rlimit memlock {};
    if (::getrlimit(RLIMIT_MEMLOCK, &memlock) != 0) return 0;
    return memlock.rlim_cur == RLIM_INFINITY ? SIZE_MAX : static_cast<std::size_t>(memlock.rlim_cur);
}

bool core_dumps_disabled() {
    struct rlimit core {};
    return ::getrlimit(RLIMIT_CORE, &core) == 0 && core.rlim_cur == 0 && ::prctl(PR_GET_DUMPABLE) == 0;
}

}  // namespace ghostpod::sandbox
