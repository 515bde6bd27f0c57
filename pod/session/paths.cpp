#include "pod/session/paths.hpp"

#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace ghostpod {
namespace {

Status check_private_dir(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return sys_error("stat " + dir);
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 077) != 0)
        return make_error(ErrorCode::runtime, "use runtime directory " + dir,
                          "it must be a directory of yours with mode 0700 (not a link)",
                          "remove it and run again; another user may have created it first");
    return {};
}

std::string session_id(const std::string& vault_path) {
    char resolved[PATH_MAX];
    std::string key = ::realpath(vault_path.c_str(), resolved) ? resolved : vault_path;
    unsigned char hash[8];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr, 0);
    char hex[sizeof hash * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    return hex;
}

}  // namespace

Result<UniqueFd> make_session_socket() {
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return sys_error("create a unix socket");
    return fd;
}

sockaddr_un session_address(const std::string& path) {
    sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    return addr;
}

Result<SessionPaths> session_paths(const std::string& vault_path) {
    SessionPaths p;
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    std::string base;
    if (xdg && *xdg && ::access(xdg, W_OK) == 0) {
        base = std::string(xdg) + "/ghostpod";
    } else {
        base = "/tmp/ghostpod-" + std::to_string(::getuid());
    }
    if (::mkdir(base.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + base);
    GP_TRY(check_private_dir(base));
    std::string id = session_id(vault_path);
    p.runtime_dir = base;
    p.socket = base + "/" + id + ".sock";
    p.ghost_dir = base + "/" + id + ".ghost";
    return p;
}

}  // namespace ghostpod
