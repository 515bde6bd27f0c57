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
#include "sandbox/ghost.hpp"
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
    std::vector<UniqueFd> clients;
    UniqueFd lock_requester;  // answered once everything is gone
    std::uint64_t started = 0;
    bool keep = false;        // stays up with no client attached (pull --no-shell)
    HolderPull pull;
    std::optional<PullSettings> trusted_pull;  // from the command that unlocked; see start_session
    // INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/_SECRET and INFISICAL_TOKEN (or _ACCESS_TOKEN) from the
    // environment, moved into secret memory (and zeroed in the environment) at start.
    SecretBuffer env_client_id, env_client_secret, env_token;

    GhostWriter writer(const std::string& home) { return {ghost, paths.ghost_dir, home, settings.ram_limit_bytes}; }
};

// "pull\n<settings json>": pulls, fills the ghost, answers on `conn` (progress lines, then
// "pulled\n<json>" or "error\n<code>\n<what>\n<hint>").
void serve_pull(Holder& h, int conn, std::string_view settings_json);
// The renew timer fired: renew the token (or log in again), rearm.
void renew_token(Holder& h);
// The session ends: revoke our token, bounded in time.
void revoke_token(Holder& h);
// Moves the INFISICAL_* credentials out of the environment into `h` (before ghost init is
// cloned, so no copy of them lives on there).
void capture_infisical_environment(Holder& h);
// "save" or "save\nforce": writes files changed or created in $GHOSTPOD_DIR back to the vault;
// answers "saved\n<json>" or an error reply.
void serve_save(Holder& h, int conn, bool force);
// Saves the ghost's changes as the session ends (session.save_on_lock). On a conflict or
// failure nothing is written and the error is returned.
Status save_ghost_changes(Holder& h, bool force, std::string* summary_json = nullptr);
// "certs": the certificates in $GHOSTPOD_DIR as certs_to_json.
void serve_certs(Holder& h, int conn);
// "export\n<json>": the session's env-style values (pod/session/export.hpp), in secret memory.
void serve_export(Holder& h, int conn, std::string_view request_json);

Result<Vault> reopen_vault(const Holder& h);
std::string error_reply(const Error& e);
void arm_timer(int timer, std::uint64_t seconds);
void disarm_timer(int timer);

}  // namespace ghostpod
