// The session holder's state, shared by its event loop (holder.cpp) and its pulls from Infisical
// (holder_pull.cpp) and Vault (holder_vault.cpp). Only the holder process uses these.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pod/unlock/config.hpp"
#include "pod/infisical/client.hpp"
#include "pod/session/ghost_files.hpp"
#include "pod/infisical/pull_settings.hpp"
#include "pod/hcvault/settings.hpp"
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
    std::uint64_t retry_at = 0;                     // a failed renewal is tried again then
    bool pin_checked = false;  // the identity's pin is known to exist since the last login
};

// A client certificate issued for this session (vault.pki): it and its key live here, in the
// ghost file it was written into, and nowhere else; it expires with the session.
struct IssuedCertificate {
    std::size_t pki_index = 0;     // in vault.pki
    std::string target;            // the file below $GHOSTPOD_DIR
    std::string chosen;            // the kubeconfig user / talosconfig context it went to
    std::string certificate_pem;
    SecretBuffer private_key_pem;
    std::string subject, issuer;   // as `certs` shows them
    std::int64_t not_before = 0, not_after = 0;
};

struct HolderVault {
    bool active = false;             // a pull has filled the ghost from Vault at least once
    VaultPullSettings settings;      // of the last pull
    VaultToken token;
    bool have_token = false;
    std::uint64_t retry_at = 0;      // a failed renewal is tried again then
    std::vector<std::string> files;  // KV files now in the ghost
    std::uint64_t last_pull = 0;
    std::string source;              // "server" or "cache"
    std::uint64_t renewals = 0;
    std::array<std::uint8_t, 32> cached_digest{};
    std::uint64_t cached_at = 0;
    bool pin_checked = false;        // the AppRole's pin is known to exist since the last login
    std::vector<IssuedCertificate> certificates;  // issued at the session's first pull from Vault
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
    UniqueFd refresh_timer;  // infisical.refresh / vault.refresh: the holder pulls again on its own
    std::uint64_t refresh_every = 0;                 // the interval armed; 0: none
    std::uint64_t refreshes = 0, refresh_failures = 0;  // timed refreshes, and failed ones in a row
    std::string refresh_error;                       // the last timed refresh's failure (no value in it)
    std::vector<UniqueFd> pending;       // accepted, their request not yet arrived
    std::vector<SessionClient> clients;
    UniqueFd lock_requester;  // answered once everything is gone
    std::uint64_t started = 0;
    bool keep = false;        // stays up with no client attached (pull --no-shell)
    HolderPull pull;
    HolderVault vault;
    std::optional<PullSettings> trusted_pull;  // from the command that unlocked; see start_session
    // INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/_SECRET and INFISICAL_TOKEN (or _ACCESS_TOKEN) from the
    // launcher's environment, handed over with the vault's credential (see start_session).
    SecretBuffer env_client_id, env_client_secret, env_token;
    std::set<std::string> notices_shown;  // NoticeRequest: each warning once per session (bounded)

    GhostWriter writer(const std::string& home) { return {ghost, paths.ghost_dir, home, settings.ram_limit_bytes}; }
};

// PullRequest: pulls, fills the ghost, answers on `conn` (Progress..., then Pulled or an Error).
void serve_pull(Holder& h, int conn, std::string_view settings_json);
// The refresh timer fired: pull every source again as the unlocking command set it up; a
// failure keeps the ghost's contents. Rearms the timer (arm_refresh).
void refresh_on_timer(Holder& h);
// Arms the refresh timer for the shortest of infisical.refresh and vault.refresh, once a pull
// has filled the ghost; disarms it when neither is set.
void arm_refresh(Holder& h);
// The renew timer fired: renew the tokens that are due (or log in again), rearm.
void renew_token(Holder& h);
// The session ends: revoke our tokens, bounded in time.
void revoke_token(Holder& h);
// Arms the renew timer for the earliest token due (80% of its lease, or a retry).
void arm_renewal(Holder& h);
// SaveRequest: writes files changed or created in $GHOSTPOD_DIR back to the vault; answers
// Saved or an Error.
void serve_save(Holder& h, int conn, bool force);
// Saves the ghost's changes as the session ends (session.save_on_lock). On a conflict or
// failure nothing is written and the error is returned.
Status save_ghost_changes(Holder& h, bool force, std::string* summary_json = nullptr);
// What a lock would lose (the `unsaved` list of 'lock --json'): files 'save' would write,
// changed files it cannot (pulled, reserved names), new files in shadowed directories.
Result<nlohmann::json> unsaved_changes(Holder& h);
// LockRequest: whether the lock goes ahead. Discard: yes. Save (asked, or session.save_on_lock):
// saves first. Otherwise, or when save_on_lock leaves changes 'save' cannot keep, answers
// Unsaved with them (or the Error) and returns false.
bool lock_may_proceed(Holder& h, int conn, const protocol::LockRequest& lock);
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
// The part of the session a status request covers (holder_status.cpp): the asker's own view for
// a profile's process (naming another profile is refused), else the whole session or the named
// profile's part of it.
struct StatusScope {
    std::string profile;  // empty: the whole session
    SessionView view;
    std::map<std::string, std::vector<std::string>> profiles;  // the profiles the asker may know of
};
Result<StatusScope> status_scope(const Holder& h, const Asker& who, const std::string& requested);
// Secret by secret: its file, the paths and variables it appears at, the profiles that get it.
nlohmann::json exposure_json(const SessionView& view, const std::map<std::string, std::vector<std::string>>& profiles);
// ExportRequest: the session's env-style values (pod/session/export.hpp), from secret memory
// (Exported, then the raw parts; or an Error). A profile's process gets its own view's only.
void serve_export(Holder& h, int conn, const protocol::ExportRequest& request, const Asker& who);
// A spawn or register request on an attached connection; false detaches it.
bool serve_attached(Holder& h, SessionClient& client);
// The whole session as the holder keeps it.
SessionView full_view(const Holder& h);

// What one pull puts in the ghost (holder_fill.cpp).
struct PullContents {
    const PullSettings* settings = nullptr;
    const PulledSecrets* infisical = nullptr;  // null: Infisical is no source
    const KvPulled* vault = nullptr;           // null: Vault is no source
    std::vector<IssuedCertificate>* certificates = nullptr;  // written into their files (`chosen` is set)
    bool new_certificates = false;             // issued just now: stored files get them too
};
// What a fill did, by name below $GHOSTPOD_DIR: pulled files new, rewritten or gone.
struct PullChanges {
    std::vector<std::string> added, changed, removed;
};
// Writes every source's files into the ghost (removing pulled ones no longer there) and keeps
// h.pull.files and h.vault.files. Checks the RAM limit first: a refresh that cannot fit leaves
// the ghost as it was. Only files whose value changed are written, and only they are looked at
// for expiring certificates (a warning in `warnings`).
Status fill_ghost(Holder& h, const PullContents& contents, std::vector<std::string>& warnings, PullChanges& changes);

// ---- certificates (holder_certs.cpp) ----
// A warning when a certificate in `files` (just written) expires soon; none for the session's own.
void check_certificates(const Holder& h, const std::vector<const GhostFile*>& files, std::vector<std::string>& warnings);

// ---- Vault (holder_vault.cpp) ----
struct VaultPullResult {
    KvPulled pulled;
    std::string source;                    // "server" or "cache"
    std::uint64_t fetched_at = 0;
    bool pulled_from_server = false;
    std::vector<IssuedCertificate> issued;  // on the session's first pull from Vault
};
// Logs in (or uses the session's token), reads every KV path and, on the session's first pull,
// issues the vault.pki certificates; or reads the offline cache (--offline, or an unreachable
// server on a first pull that issues no certificate). Nothing in the ghost changes here.
Result<VaultPullResult> pull_vault(Holder& h, const VaultPullSettings& s, bool offline, int conn,
                                   std::vector<std::string>& warnings);
// Once the ghost holds the pull: keeps its certificates and state, saves the cache if it changed.
void commit_vault_pull(Holder& h, const VaultPullSettings& s, VaultPullResult& result, std::vector<std::string>& warnings);
// When the Vault token is due for renewal (unix time), 0 when never.
std::uint64_t vault_renewal_due(const Holder& h);
void renew_vault_token(Holder& h);
void revoke_vault_token(Holder& h);

// ---- shared by the pulls (holder_shared.cpp) ----
// A progress line for the pulling command's status line.
void send_progress(int conn, const std::string& text);
// The holder serves nobody while it waits on the network: its own calls get a short budget.
HttpSettings quick_http_settings(const HttpSettings& http);
std::string age_text(std::uint64_t seconds);  // "42 s", "5 min", "3 h", "9 days"
// A keyed BLAKE2b of length-framed fields (the key random per holder): whether what a pull
// returned differs from what the offline cache holds, without keeping a copy of it.
std::array<std::uint8_t, 32> keyed_digest(const std::vector<std::span<const std::uint8_t>>& fields);
// Stores `encoded` as the offline cache entry `name` (kind token-cache) in the vault.
// `keep`, when given, is asked about the stored entry (under the vault's lock, from the one
// read of the vault): true leaves the vault as it is, and sets `*kept`.
Status write_cache_entry(Holder& h, const char* name, const std::string& source, std::span<const std::uint8_t> encoded,
                         const std::function<bool(const Entry&)>& keep = nullptr, bool* kept = nullptr);
// Pins the vault's identity of `backend` (whose secret is `secret_entry`) to `base_url` and
// `cacert` when it has none yet (pod/unlock/identity_pin); returns the notice for the user, or ""
// when nothing was pinned. `what` names the identity, `repin` the command that changes the pin.
Result<std::string> pin_on_first_pull(Holder& h, const char* backend, const char* secret_entry, const std::string& base_url,
                                      const std::string& cacert, const std::string& what, const std::string& repin);
// The server refused the token or the identity (401, 403; 403 is also Vault's answer to a token
// it no longer knows).
bool auth_refused(const Error& e);
// Network trouble rather than a refusal (no connection, a timeout, 429, 5xx): what the offline
// cache is for. A TLS failure is not: that may be an impostor.
bool server_unreachable(const Error& e);

Result<Vault> reopen_vault(const Holder& h);
// Sends `reply` on `conn`; a client that went away meanwhile is no failure of ours.
void answer(int conn, const protocol::Reply& reply);
void arm_timer(int timer, std::uint64_t seconds);
void disarm_timer(int timer);

}  // namespace ghostpod
