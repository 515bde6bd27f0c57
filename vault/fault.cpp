#include "vault/fault.hpp"

#ifdef GHOSTPOD_FAULT_INJECTION
#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace ghostpod::fault {
namespace {

constexpr std::array<std::string_view, 14> kPoints = {
    "vault.write",     "vault.fsync",    "vault.backup_rename", "vault.rename",
    "vault.fsync_dir", "session.clone"  , "session.uid_map",    "session.gid_map",
    "session.ram_mount", "session.seccomp", "session.socket",   "session.bind",
    "session.listen",  "session.chmod",
};

struct Chosen {
    bool initialised = false;
    std::string point;
    long nth = 1;
    long hits = 0;
};

Chosen& chosen() {
    static Chosen c;
    return c;
}

}  // namespace

void init_from_environment() {
    Chosen& c = chosen();
    if (c.initialised) return;
    c.initialised = true;
    const char* spec = std::getenv("GHOSTPOD_FAULT");
    if (spec == nullptr) return;
    std::string s = spec;
    if (auto colon = s.find(':'); colon != std::string::npos) {
        c.nth = std::strtol(s.c_str() + colon + 1, nullptr, 10);
        s.resize(colon);
    }
    c.point = s;
}

bool hit(std::string_view point, int errnum) {
    Chosen& c = chosen();
    if (!c.initialised) init_from_environment();
    if (c.point.empty() || point != c.point) return false;
    if (++c.hits != c.nth) return false;
    errno = errnum;
    return true;
}

std::span<const std::string_view> points() { return kPoints; }

}  // namespace ghostpod::fault
#endif
