// The client side of a session's control socket: joining the ghost (attach), ending it,
// asking about it. One session per vault. The messages are pod/session/protocol.hpp's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pod/session/ghost_files.hpp"
#include "pod/session/paths.hpp"
#include "pod/session/protocol.hpp"
#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

// Connects to the session's control socket. ErrorCode::session when none is running.
Result<UniqueFd> connect_session(const SessionPaths& paths);

// True for connect_session's "no session is running" only: not for the other session errors
// (a refusal of a profile's view, a session that is ending), which must not lead a command to
// start a second session or to fall back to the vault.
bool no_session_running(const Error& e);

// What a client receives when it attaches.
struct Attachment {
    UniqueFd connection;  // stays open while attached
    // Where the holder found this process: outside the ghost, in it, or in a profile's view.
    protocol::Place place = protocol::Place::outside;
    std::string profile;                   // the profile whose view this is (place == profile)
    UniqueFd ns_user, ns_mnt, ns_ipc, ns_pid;  // the full view's only
    std::string ghost_dir;
    std::vector<std::string> secrets;      // names in $GHOSTPOD_DIR
    std::vector<Placement> placements;     // mapped paths
    std::vector<GhostEnv> env;             // mapped variables
    std::vector<std::string> mapped_names; // every variable this view maps, kept through narrowing
    std::string vault_path;                // the session's vault (GHOSTPOD_VAULT inside)
    std::string config_path;               // the config this command was named (GHOSTPOD_CONFIG inside), if any
    std::vector<std::string> pass_env;     // the session's session.pass_env
    bool prompt = true;                    // the session's session.prompt

    SessionView view() const { return {ghost_dir, secrets, placements, env}; }
    void narrow(const SessionView& v);
};

Result<Attachment> attach(const SessionPaths& paths);
// One request with a one-message answer (status, lock, save, certs): the answer of kind T, or
// the holder's Error as the error.
template <class T>
Result<T> request(const SessionPaths& paths, const protocol::Request& what);
// Sends `what` and receives the first reply (waiting out a holder that is ending, as request
// does); the connection stays open for what follows the reply (export's raw values).
Result<UniqueFd> exchange(const SessionPaths& paths, const protocol::Request& what, protocol::Reply& reply);
// Asks the holder to pull (settings as JSON); progress lines go to `on_progress`.
Result<protocol::Pulled> request_pull(const SessionPaths& paths, const std::string& settings_json,
                                      const std::function<void(const std::string&)>& on_progress);
// On an attachment's connection: "the mount namespace `mnt_ns` is profile `name`'s view".
Status register_profile(Attachment& a, const std::string& name, const std::vector<std::string>& allowed, int mnt_ns);
// On an attachment's connection: ghost init starts a command in profile `name`'s view with
// `fds` (stdin, stdout, stderr, control, command; see sandbox/spawn.hpp).
Status spawn_in_profile(Attachment& a, const std::string& name, const std::vector<std::string>& allowed,
                        const std::vector<int>& fds);

}  // namespace ghostpod
