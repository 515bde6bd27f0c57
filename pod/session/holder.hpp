// The session holder: the process that owns a ghost and serves the control socket. Only
// start_session is for the launcher; the holder's own state is in holder_state.hpp.
#pragma once

#include <string>

#include "pod/session/paths.hpp"
#include "pod/unlock/config.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/result.hpp"

namespace ghostpod {

// Starts a holder for the vault (it daemonises) and returns once the ghost is ready, or with
// the error that stopped it (wrong passphrase: ErrorCode::unlock, ...).
// `trusted_pull` (JSON, may be empty) are the Infisical settings of the command that unlocked:
// later pull requests over the socket must name the same server, project and folders, so a
// process that can reach the socket cannot send the vault's identity elsewhere.
Status start_session(const std::string& vault_path, const std::string& config_path, HeldCredential credential,
                     const SessionSettings& settings, const SessionPaths& paths, const std::string& trusted_pull);

}  // namespace ghostpod
