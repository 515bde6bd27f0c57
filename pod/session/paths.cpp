#include "pod/session/paths.hpp"

#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "pod/cli/messages.hpp"
#include "pod/unlock/locate.hpp"

namespace ghostpod {
namespace {

// <base>/<16 hex>.sock must fit sockaddr_un's sun_path with its NUL.
constexpr std::size_t kSocketNameBytes = 1 + 16 + 5;
constexpr std::size_t kMaxBaseBytes = sizeof(sockaddr_un{}.sun_path) - 1 - kSocketNameBytes;

// Why `dir` is not a private runtime directory of ours, or "" when it is.
std::string not_private(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return std::string("cannot stat it: ") + std::strerror(errno);
    if (!S_ISDIR(st.st_mode)) return "it is not a directory (a link or a file stands there)";
    if (st.st_uid != ::getuid()) return "it belongs to another user";
    if ((st.st_mode & 077) != 0) return "others may enter it (its mode is not 0700)";
    return "";
}

bool usable(const std::string& dir, bool create) {
    if (dir.size() > kMaxBaseBytes) return false;
    if (create && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return false;
    return not_private(dir).empty();
}

// Sessions go here when /tmp/ghostpod-UID is taken: in the user's own state directory, which
// no other user can create first, and per host (a home shared over NFS holds several).
std::string fallback_dir() {
    const char* state = std::getenv("XDG_STATE_HOME");
    std::string base;
    if (state && state[0] == '/') {
        base = state;
    } else {
        const char* home = std::getenv("HOME");
        base = std::string(home && *home ? home : "") + "/.local/state";
    }
    char host[65] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::string name;
    for (const char* c = host; *c && name.size() < 24; ++c)
        name += (std::isalnum(static_cast<unsigned char>(*c)) || *c == '-' || *c == '.') ? *c : '_';
    return base + "/ghostpod/run-" + (name.empty() ? "localhost" : name);
}

// $XDG_RUNTIME_DIR/ghostpod; else /tmp/ghostpod-UID; else, when another user took that name
// first, the fallback in the state directory (kept from then on, so every command finds the
// same sessions). Nothing in any of them is secret: a socket and empty mount points.
Result<std::string> runtime_base() {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg && ::access(xdg, W_OK) == 0) {
        std::string dir = std::string(xdg) + "/ghostpod";
        if (dir.size() > kMaxBaseBytes)
            return make_error(ErrorCode::runtime, "use runtime directory " + dir, "the path is too long for a unix socket",
                              "point XDG_RUNTIME_DIR at a shorter private directory of yours");
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + dir);
        if (auto why = not_private(dir); !why.empty())
            return make_error(ErrorCode::runtime, "use runtime directory " + dir, why, "remove it (it is in your own XDG_RUNTIME_DIR) and run again");
        return dir;
    }
    std::string fallback = fallback_dir();
    if (usable(fallback, false)) return fallback;
    std::string tmp = "/tmp/ghostpod-" + std::to_string(::getuid());
    if (usable(tmp, true)) return tmp;
    std::string why = not_private(tmp);
    if (fallback.size() <= kMaxBaseBytes && make_parent_dirs(fallback + "/x") && usable(fallback, true)) {
        warn(tmp + " is not usable (" + why + "; another user may have made it): sessions live in " + fallback + " from now on");
        return fallback;
    }
    return make_error(ErrorCode::runtime, "use runtime directory " + tmp, why + "; another user may have made it first",
                      "run with XDG_RUNTIME_DIR set to a private directory of yours with a short path, e.g. "
                      "'export XDG_RUNTIME_DIR=$(mktemp -d)' in this shell");
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
    auto base = runtime_base();
    if (!base) return std::move(base).error();
    std::string id = session_id(vault_path);
    p.runtime_dir = *base;
    p.socket = *base + "/" + id + ".sock";
    p.ghost_dir = *base + "/" + id + ".ghost";
    return p;
}

}  // namespace ghostpod
