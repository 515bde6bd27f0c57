// Sessions: the holder process that owns a ghost, and the control socket clients use to join
// it, end it or ask about it. One session per vault.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pod/cli/args.hpp"
#include "pod/unlock/config.hpp"
#include "pod/session/ghost_files.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

struct SessionPaths {
    std::string runtime_dir;  // $XDG_RUNTIME_DIR/ghostpod, else /tmp/ghostpod-<uid>; 0700
    std::string socket;       // <runtime_dir>/<id>.sock
    std::string ghost_dir;    // <runtime_dir>/<id>.ghost: empty outside, the RAM mount inside
};

// Creates (and checks the ownership and mode of) the runtime directory.
Result<SessionPaths> session_paths(const std::string& vault_path);

// Connects to the session's control socket. ErrorCode::session when none is running.
Result<UniqueFd> connect_session(const SessionPaths& paths);

// Starts a holder for the vault (it daemonises) and returns once the ghost is ready, or with
// the error that stopped it (wrong passphrase: ErrorCode::unlock, ...).
// `trusted_pull` (JSON, may be empty) are the Infisical settings of the command that unlocked:
// later pull requests over the socket must name the same server, project and folders, so a
// process that can reach the socket cannot send the vault's identity elsewhere.
Status start_session(const std::string& vault_path, const std::string& config_path, HeldCredential credential,
                     const SessionSettings& settings, const SessionPaths& paths, const std::string& trusted_pull);

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
