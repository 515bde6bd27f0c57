// The session holder's state, shared by its event loop (session.cpp) and its Infisical work
// (holder_pull.cpp). Only the holder process uses these.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pod/unlock/config.hpp"
#include "pod/infisical/client.hpp"
#include "pod/session/ghost_files.hpp"
#include "pod/infisical/pull_settings.hpp"
#include "pod/session/client.hpp"
#include "pod/session/protocol.hpp"
#include "sandbox/ghost.hpp"
#include "sandbox/peer.hpp"
#include "vault/secret_buffer.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

struct HolderPull {
    bool active = false;           // a pull has filled the ghost at least once
    PullSettings settings;         // of the last pull
    AccessToken token;
    bool have_token = false;
    bool token_ours = false;       // from our login: renewed and revoked by us
    std::vector<std::string> files;  // pulled files now in the ghost
    std::uint64_t last_pull = 0;   // when the ghost's pulled contents were fetched
    std::string source;            // "server" or "cache"
    std::uint64_t renewals = 0;
    std::array<std::uint8_t, 32> cached_digest{};  // of the contents last saved as the offline cache
    std::uint64_t cached_at = 0;                    // when they were saved
};

// A profile's view whose processes the holder recognises by their mount namespace: built by
// ghost init for a spawn, or by a client outside the ghost that registered it. Lives as long
// as the connection that asked for it; the descriptor keeps the namespace (and so its inode
// number) from being reused meanwhile.
struct ProfileRegistration {
    std::string name;
    std::vector<std::string> allowed;
    UniqueFd mnt_ns;
    sandbox::NsId id;
};

// An attached client: its connection (closing it, or anything but one spawn or register
// request on it, detaches) and the profile it registered, if any.
struct SessionClient {
    UniqueFd conn;
    std::optional<ProfileRegistration> profile;
};

struct Holder {
    SessionPaths paths;
    SessionSettings settings;
    std::string vault_path;
    Config config;
    SecretBuffer data_key;  // kept to reread the identity and save the pull cache
    // The vault generation the ghost's vault files came from (moved on by our own saves): a
    // save finding another generation on disk would overwrite a change made elsewhere.
    std::uint64_t base_generation = 0;
    bool end_saved = false;  // 'lock' saved (or chose not to): no second save as the session ends
    sandbox::Ghost ghost;
    Materialised layout;
    UniqueFd listener, signals, ttl_timer, idle_timer, renew_timer;
    std::vector<UniqueFd> pending;       // accepted, their request not yet arrived
    std::vector<SessionClient> clients;
    UniqueFd lock_requester;  // answered once everything is gone
    std::uint64_t started = 0;
    bool keep = false;        // stays up with no client attached (pull --no-shell)
    HolderPull pull;
    std::optional<PullSettings> trusted_pull;  // from the command that unlocked; see start_session
    // INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/_SECRET and INFISICAL_TOKEN (or _ACCESS_TOKEN) from the
    // launcher's environment, handed over with the vault's credential (see start_session).
    SecretBuffer env_client_id, env_client_secret, env_token;

    GhostWriter writer(const std::string& home) { return {ghost, paths.ghost_dir, home, settings.ram_limit_bytes}; }
};

// PullRequest: pulls, fills the ghost, answers on `conn` (Progress..., then Pulled or an Error).
void serve_pull(Holder& h, int conn, std::string_view settings_json);
// The renew timer fired: renew the token (or log in again), rearm.
void renew_token(Holder& h);
// The session ends: revoke our token, bounded in time.
void revoke_token(Holder& h);
// SaveRequest: writes files changed or created in $GHOSTPOD_DIR back to the vault; answers
// Saved or an Error.
void serve_save(Holder& h, int conn, bool force);
// Saves the ghost's changes as the session ends (session.save_on_lock). On a conflict or
// failure nothing is written and the error is returned.
Status save_ghost_changes(Holder& h, bool force, std::string* summary_json = nullptr);
// CertsRequest: the certificates in $GHOSTPOD_DIR as certs_to_json (CertsReply).
void serve_certs(Holder& h, int conn);

// Who asks, as far as the session goes (holder_clients.cpp): the peer's place and, in a
// profile's view, its registration.
struct Asker {
    protocol::Place place = protocol::Place::outside;
    const ProfileRegistration* profile = nullptr;
    bool known = false;  // false: nested in namespaces no profile registered; gets nothing
};
Result<Asker> identify_asker(const Holder& h, int conn);
// Whether `who` may ask `request`; else the Error that says so.
bool authorise(const protocol::Request& request, const Asker& who);
Error refused(const std::string& what, const Asker& who);
// ExportRequest: the session's env-style values (pod/session/export.hpp), from secret memory
// (Exported, then the raw parts; or an Error). A profile's process gets its own view's only.
void serve_export(Holder& h, int conn, const protocol::ExportRequest& request, const Asker& who);
// A spawn or register request on an attached connection; false detaches it.
bool serve_attached(Holder& h, SessionClient& client);
// The whole session as the holder keeps it.
SessionView full_view(const Holder& h);

Result<Vault> reopen_vault(const Holder& h);
// Sends `reply` on `conn`; a client that went away meanwhile is no failure of ours.
void answer(int conn, const protocol::Reply& reply);
void arm_timer(int timer, std::uint64_t seconds);
void disarm_timer(int timer);

}  // namespace ghostpod
