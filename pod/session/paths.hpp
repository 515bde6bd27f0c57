// Where a vault's session lives: the per-user runtime directory, the control socket and the
// directory the RAM mount covers inside the ghost.
#pragma once

#include <sys/un.h>

#include <string>

#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

struct SessionPaths {
    std::string runtime_dir;  // $XDG_RUNTIME_DIR/ghostpod, else /tmp/ghostpod-<uid>, else (that one taken by
                              // another user) $XDG_STATE_HOME/ghostpod/run-<host>; 0700
    std::string socket;       // <runtime_dir>/<id>.sock
    std::string ghost_dir;    // <runtime_dir>/<id>.ghost: empty outside, the RAM mount inside
};

// Creates (and checks the ownership and mode of) the runtime directory; the socket path fits sun_path.
Result<SessionPaths> session_paths(const std::string& vault_path);

// The control socket's kind (SOCK_SEQPACKET, close-on-exec) and address.
Result<UniqueFd> make_session_socket();
sockaddr_un session_address(const std::string& path);

}  // namespace ghostpod
