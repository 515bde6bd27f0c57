// The client side of a session's control socket: joining the ghost (attach), ending it,
// asking about it. One session per vault.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pod/session/ghost_files.hpp"
#include "pod/session/paths.hpp"
#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

// Connects to the session's control socket. ErrorCode::session when none is running.
Result<UniqueFd> connect_session(const SessionPaths& paths);

// What a client receives when it attaches.
struct Attachment {
    UniqueFd connection;  // stays open while attached
    UniqueFd ns_user, ns_mnt, ns_ipc, ns_pid;
    std::string ghost_dir;
    std::vector<std::string> secrets;      // names in $GHOSTPOD_DIR
    std::vector<Placement> placements;     // mapped paths
    std::vector<GhostEnv> env;             // mapped variables
    std::string vault_path;                // the session's vault (GHOSTPOD_VAULT inside)
};

Result<Attachment> attach(const SessionPaths& paths);
// An "error\n<code>\n<what>\n<hint>" reply from the holder (after its first line) as an Error.
Error error_from_reply(const std::string& text);
// One request with a one-message answer: "lock", "status".
Result<std::string> request(const SessionPaths& paths, const std::string& what);
// Asks the holder to pull (settings as JSON); progress lines go to `on_progress`. Returns the
// final answer's JSON, or the holder's error.
Result<std::string> request_pull(const SessionPaths& paths, const std::string& settings_json,
                                 const std::function<void(const std::string&)>& on_progress);

}  // namespace ghostpod
