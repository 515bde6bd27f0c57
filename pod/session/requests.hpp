// Requests a command sends to a running session's holder besides attaching: the certificates
// in the ghost, and saving the ghost's changes back to the vault.
#pragma once

#include <optional>
#include <vector>

#include "pod/formats/certs.hpp"
#include "pod/cli/args.hpp"
#include "pod/session/client.hpp"

namespace ghostpod {

// The session paths of the vault the command line names (or that is found).
Result<SessionPaths> session_paths_for(const Context& context);

// The certificates in the running session's ghost (every file in $GHOSTPOD_DIR, labelled with
// "ghost:" and its name). nullopt when no session is running for this vault.
Result<std::optional<std::vector<CertInfo>>> certs_from_session(const Context& context);
// One warning line when a certificate in the ghost expires within kDefaultCertWarnDays (or has
// expired); silent otherwise and on any failure.
void warn_expiring_certificates(const SessionPaths& paths);

}  // namespace ghostpod
