#include "sandbox/userns.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <span>
#include <string>

#include "vault/fault.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {
namespace {

Status write_proc_file(const char* path, const std::string& text, bool injected_fault = false) {
    if (injected_fault) return sys_error(std::string("write ") + path);
    UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) return sys_error(std::string("open ") + path);
    auto bytes = text_bytes(text);
    return write_all(fd.get(), bytes, std::string("write ") + path);
}

}  // namespace

Status map_self(uid_t uid, gid_t gid) {
    // /proc/self of a non-dumpable process belongs to root, which this process cannot open for
    // writing; it holds no secret yet, so being dumpable for these three writes costs nothing.
    if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return sys_error("prctl PR_SET_DUMPABLE 1");
    Status result = write_proc_file("/proc/self/setgroups", "deny");
    if (result) result = write_proc_file("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1\n", GP_FAULT("session.uid_map", EPERM));
    if (result) result = write_proc_file("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1\n", GP_FAULT("session.gid_map", EPERM));
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 && result) return sys_error("prctl PR_SET_DUMPABLE 0");
    return result;
}

}  // namespace ghostpod::sandbox
