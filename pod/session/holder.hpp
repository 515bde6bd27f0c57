// The session holder: the process that owns a ghost and serves the control socket. Only
// start_session is for the launcher; the holder's own state is in holder_state.hpp.
#pragma once

#include <string>

#include "pod/session/paths.hpp"
#include "pod/unlock/config.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

// What the launcher hands a new holder, over a socket and only once the holder's ghost is
// ready, so that ghost init (cloned from the holder) never holds any of it: the vault's
// credential, and the Infisical identity or token the launcher's environment carried.
struct SessionCredentials {
    HeldCredential unlock;
    SecretBuffer client_id, client_secret, token;  // INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/_SECRET, INFISICAL_TOKEN
};

// Moves INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/_SECRET and INFISICAL_TOKEN (or
// INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN) out of this process's environment into `into`, zeroing
// the values where the environment kept them: no later fork of this process inherits them.
void take_infisical_environment(SessionCredentials& into);

// Starts a holder for the vault (it daemonises) and returns once the ghost is ready, or with
// the error that stopped it (wrong passphrase: ErrorCode::unlock, ...). `credentials` reach the
// holder after its ghost exists and are wiped here once sent.
// `trusted_pull` (JSON, may be empty) are the Infisical settings of the command that unlocked:
// later pull requests over the socket must name the same server, project and folders, so a
// process that can reach the socket cannot send the vault's identity elsewhere.
Status start_session(const std::string& vault_path, const std::string& config_path, SessionCredentials credentials,
                     const SessionSettings& settings, const SessionPaths& paths, const std::string& trusted_pull);

}  // namespace ghostpod
