// The holder's pull: Infisical's part (log in with the vault's machine identity, list, keep the
// offline cache, renew and revoke the token) and the request that reads every source and fills
// the ghost (Vault's part is holder_vault.cpp, the filling holder_fill.cpp).
#include <malloc.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <sodium.h>
#include <nlohmann/json.hpp>
#include <set>

#include "pod/session/holder_state.hpp"
#include "pod/infisical/pull_cache.hpp"
#include "pod/unlock/identity_pin.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/store.hpp"
#include "vault/vault.hpp"

namespace ghostpod {
namespace {

constexpr std::uint64_t kRenewRetrySeconds = 60;

void revoke_infisical_token(Holder& h);

void progress(int conn, const std::string& text) { send_progress(conn, text); }

}  // namespace

Result<Vault> reopen_vault(const Holder& h) {
    auto bytes = read_vault_file(h.vault_path);
    if (!bytes) return std::move(bytes).error();
    auto vault = Vault::open_with_data_key(*bytes, h.data_key.bytes());
    if (!vault) {
        Error e = std::move(vault).error();
        e.what = "reopen " + h.vault_path;
        e.why = "it was replaced by a vault with another data key, or damaged";
        e.hint = "lock the session and start a new one";
        return e;
    }
    return vault;
}

namespace {

// Logs in with the identity from INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/_SECRET, else the vault's,
// which goes only where its pin says (checked before connecting).
Status log_in(Holder& h, InfisicalClient& client, const PullSettings& s) {
    Result<AccessToken> token = AccessToken{};
    if (!h.env_client_id.empty() && !h.env_client_secret.empty()) {
        token = client.login(h.env_client_id.bytes(), h.env_client_secret.bytes());
    } else {
        auto vault = reopen_vault(h);
        if (!vault) return std::move(vault).error();
        const Entry* id = vault->find(kClientIdEntry);
        const Entry* secret = vault->find(kClientSecretEntry);
        if (!id || !secret)
            return make_error(ErrorCode::usage, "log in to " + client.target().base_url, "the vault holds no machine identity",
                              "store one with 'ghostpod identity set' (client id and secret of a Universal Auth identity)");
        auto pin = read_pin(*vault, kInfisicalBackend);
        if (!pin) return std::move(pin).error();
        if (*pin) GP_TRY(check_pin(**pin, s.target.base_url, s.http.cacert, "ghostpod identity set --host " + s.target.base_url));
        token = client.login(id->value(), secret->value());
    }
    if (!token) return std::move(token).error();
    h.pull.token = std::move(*token);
    h.pull.have_token = true;
    h.pull.token_ours = true;
    h.pull.pin_checked = false;  // a new login may have used a newly set identity
    return {};
}

// A token to list with: INFISICAL_TOKEN (not ours: never renewed or revoked), the session's
// own while it lasts, else a fresh login.
Status ensure_token(Holder& h, InfisicalClient& client, const PullSettings& s, bool same_server) {
    if (!h.env_token.empty()) {
        auto token = SecretBuffer::copy_of(h.env_token.bytes());
        if (!token) return std::move(token).error();
        h.pull.token = AccessToken{std::move(*token), 0, now_seconds()};
        h.pull.have_token = true;
        h.pull.token_ours = false;
        return {};
    }
    if (h.pull.have_token && h.pull.token_ours && !same_server) revoke_infisical_token(h);
    if (h.pull.have_token && same_server) return {};
    return log_in(h, client, s);
}

Result<PulledSecrets> fetch(Holder& h, const PullSettings& s, int conn) {
    bool same_server = h.pull.active && h.pull.settings.target.base_url == s.target.base_url;
    auto client = InfisicalClient::create(s.target, s.http);
    if (!client) return std::move(client).error();
    client->start_budget();  // retry_for bounds the whole pull, not each request
    bool fresh_login = !(h.pull.have_token && same_server);
    progress(conn, (fresh_login ? "logging in to " : "pulling from ") + s.target.base_url);
    GP_TRY(ensure_token(h, *client, s, same_server));
    h.pull.settings = s;  // where the token is renewed and revoked, even if this pull fails
    progress(conn, "pulling " + s.target.environment + ":" + joined_paths(s.target.paths) + " from " + s.target.base_url);
    auto pulled = client->list(h.pull.token);
    if (!pulled && auth_refused(pulled.error()) && !fresh_login && h.pull.token_ours) {
        // The session's token was revoked or expired on the server's side: log in once more.
        h.pull.have_token = false;
        GP_TRY(log_in(h, *client, s));
        pulled = client->list(h.pull.token);
    }
    return pulled;
}

// What a pull returned (and from where), as a keyed digest: whether the cache is stale.
std::array<std::uint8_t, 32> pulled_digest(const PullSettings& s, const PulledSecrets& pulled) {
    std::vector<std::string> names = {s.target.base_url, s.target.project_id, s.target.environment, joined_paths(s.target.paths)};
    std::vector<std::span<const std::uint8_t>> fields;
    for (const auto& n : names) fields.push_back(text_bytes(n));
    // A digest per 1,000 secrets, then one of those: no list of 30,000 fields at the holder's peak.
    std::vector<std::array<std::uint8_t, 32>> parts;
    std::vector<std::span<const std::uint8_t>> part;
    for (std::size_t i = 0; i < pulled.secrets.size(); ++i) {
        const auto& secret = pulled.secrets[i];
        part.push_back(text_bytes(secret.key));
        part.push_back(text_bytes(pulled.folder(secret)));
        part.push_back(pulled.value(secret));
        if (part.size() == 3000 || i + 1 == pulled.secrets.size()) {
            parts.push_back(keyed_digest(part));
            part.clear();
        }
    }
    for (const auto& p : parts) fields.push_back(p);
    return keyed_digest(fields);
}

Result<CachedPull> load_cache(const Holder& h) {
    auto vault = reopen_vault(h);
    if (!vault) return std::move(vault).error();
    const Entry* entry = vault->find(kPullCacheEntry);
    if (!entry)
        return make_error(ErrorCode::network, "use the offline cache", "the vault holds none yet",
                          "run 'ghostpod pull' once while the server is reachable");
    return decode_pull_cache(entry->value());
}

// Saves the pull as the offline cache; returns when the cache now holds it from. On the
// session's first pull (`check_stored`) a vault cache with the same contents, saved within the
// hour, is left as it is: a one-shot pull of an unchanged folder rewrites no vault.
Result<std::uint64_t> save_cache(Holder& h, const PullSettings& s, const PulledSecrets& pulled, bool check_stored) {
    std::uint64_t now = now_seconds();
    auto encoded = encode_pull_cache(s, pulled, now);
    if (!encoded) return std::move(encoded).error();
    std::uint64_t stored_at = 0;
    auto current = [&](const Entry& stored) {
        return same_pull_cache(stored.value(), encoded->bytes(), stored_at) && stored_at <= now && now - stored_at < 3600;
    };
    bool kept = false;
    GP_TRY(write_cache_entry(h, kPullCacheEntry, "infisical:" + s.target.base_url, encoded->bytes(),
                             check_stored ? std::function<bool(const Entry&)>(current) : nullptr, &kept));
    return kept ? stored_at : now;
}

std::uint64_t infisical_renewal_due(const Holder& h) {
    if (!h.pull.have_token || !h.pull.token_ours) return 0;
    if (h.pull.retry_at) return h.pull.retry_at;
    if (h.pull.token.expires_in == 0) return 0;
    return h.pull.token.obtained_at + h.pull.token.expires_in * 8 / 10;
}

}  // namespace

void arm_renewal(Holder& h) {
    std::uint64_t at = 0;
    for (std::uint64_t due : {infisical_renewal_due(h), vault_renewal_due(h)})
        if (due && (at == 0 || due < at)) at = due;
    if (at == 0) return disarm_timer(h.renew_timer.get());
    std::uint64_t now = now_seconds();
    arm_timer(h.renew_timer.get(), at > now ? at - now : 0);
}

void answer(int conn, const protocol::Reply& reply) {
    if (conn >= 0) (void)protocol::send(conn, reply);  // -1: the refresh timer's pull, asked by no one
}

namespace {


// A pull request may come from any process of the user: it must not point the holder (and the
// vault's identities) at another server, CA, project, folder or KV path than the unlocking
// command chose.
Status check_trusted(const Holder& h, const PullSettings& s) {
    if (!h.trusted_pull)
        return make_error(ErrorCode::session, "pull in the running session",
                          "it was started without an Infisical or Vault configuration",
                          "end it with 'ghostpod lock', then run 'ghostpod pull'");
    const PullSettings& t = *h.trusted_pull;
    if (t.infisical != s.infisical ||
        (t.infisical && (t.target.base_url != s.target.base_url || t.http.cacert != s.http.cacert ||
                         t.http.extra_headers != s.http.extra_headers || t.target.project_id != s.target.project_id ||
                         t.target.environment != s.target.environment || t.target.paths != s.target.paths ||
                         t.target.organization_slug != s.target.organization_slug)))
        return make_error(ErrorCode::session, "pull in the running session",
                          t.infisical ? "it pulls from " + t.target.base_url + " (project " + t.target.project_id + ", " +
                                            t.target.environment + ":" + joined_paths(t.target.paths) +
                                            "), and this pull asks for another server, CA, project or folder"
                                      : "it pulls from no Infisical project, and this pull asks for one",
                          "end it with 'ghostpod lock' and pull again to use the new settings");
    if (t.vault.has_value() != s.vault.has_value() || (t.vault && !same_vault_source(*t.vault, *s.vault)))
        return make_error(ErrorCode::session, "pull in the running session",
                          t.vault ? "it pulls from Vault at " + describe_vault_source(*t.vault) + " (" + joined_kv_paths(t.vault->kv) +
                                        "), and this pull asks for another server, CA, namespace, KV path or PKI role"
                                  : "it pulls from no Vault server, and this pull asks for one",
                          "end it with 'ghostpod lock' and pull again to use the new settings");
    return {};
}

struct InfisicalPull {
    PulledSecrets pulled;
    std::string source = "server";
    std::uint64_t fetched_at = 0;
};

// Lists the configured folders, or reads the offline cache (--offline, or an unreachable server
// on the session's first pull). Nothing in the ghost changes here.
Result<InfisicalPull> pull_infisical(Holder& h, const PullSettings& s, int conn, std::vector<std::string>& warnings) {
    InfisicalPull out;
    out.fetched_at = now_seconds();
    Result<PulledSecrets> pulled = PulledSecrets{};
    if (!s.offline) pulled = fetch(h, s, conn);
    // The cache stands in for an unreachable server only when the ghost has no pull yet: a
    // failed refresh keeps what the ghost has.
    if (s.offline || (!pulled && server_unreachable(pulled.error()) && !h.pull.active)) {
        auto cache = load_cache(h);
        if (!cache || !cache_matches(*cache, s)) {
            Error e = s.offline ? (cache ? make_error(ErrorCode::network, "use the offline cache",
                                                      "it was pulled from another server, project, environment or paths",
                                                      "run 'ghostpod pull' once online with this config")
                                         : std::move(cache).error())
                                : std::move(pulled).error();
            if (!s.offline && !e.hint.empty()) e.hint += "; there is no usable offline cache";
            return e;
        }
        if (!s.offline) warnings.push_back("could not reach " + s.target.base_url + ": " + pulled.error().why);
        out.fetched_at = cache->fetched_at;
        warnings.push_back("using the offline cache from " + age_text(now_seconds() - std::min(now_seconds(), out.fetched_at)) +
                           " ago (" + std::to_string(cache->pulled.secrets.size()) + " secrets)");
        out.pulled = std::move(cache->pulled);
        out.source = "cache";
        return out;
    }
    if (!pulled) return std::move(pulled).error();
    out.pulled = std::move(*pulled);
    return out;
}

void warn_skipped(const std::vector<std::string>& skipped, std::vector<std::string>& warnings) {
    if (skipped.empty()) return;
    std::string listed;
    for (std::size_t i = 0; i < skipped.size() && i < 10; ++i) listed += (i ? ", " : "") + skipped[i];
    warnings.push_back("skipped " + std::to_string(skipped.size()) + " key(s) not usable as file names: " + listed +
                       (skipped.size() > 10 ? ", …" : ""));
}

// Once the ghost holds the pull: the state, and the cache when the contents changed (or to
// refresh its age after an hour: a refresh that finds nothing new costs no vault write).
void commit_infisical_pull(Holder& h, const PullSettings& s, const InfisicalPull& p, std::vector<std::string>& warnings) {
    auto digest = pulled_digest(s, p.pulled);
    // A vault identity without a pin is pinned to where its first successful pull went.
    bool env_identity = !h.env_token.empty() || (!h.env_client_id.empty() && !h.env_client_secret.empty());
    // Looked at once per login: it reads (and decrypts) the whole vault, offline cache included.
    if (p.source == "server" && !env_identity && !h.pull.pin_checked) {
        auto pinned = pin_on_first_pull(h, kInfisicalBackend, kClientSecretEntry, s.target.base_url, s.http.cacert,
                                        "machine identity", "ghostpod identity set --host URL");
        if (!pinned) warnings.push_back("the identity was not pinned: " + pinned.error().describe());
        else if (!pinned->empty()) warnings.push_back(*pinned);
        h.pull.pin_checked = static_cast<bool>(pinned);
    }
    if (p.source == "server" && (digest != h.pull.cached_digest || now_seconds() - h.pull.cached_at >= 3600)) {
        if (auto saved = save_cache(h, s, p.pulled, h.pull.cached_at == 0); !saved) {
            warnings.push_back("the offline cache was not saved: " + saved.error().describe());
        } else {
            h.pull.cached_digest = digest;
            h.pull.cached_at = *saved;
        }
    }
    h.pull.active = true;
    h.pull.settings = s;
    h.pull.last_pull = p.fetched_at;
    h.pull.source = p.source;
}

}  // namespace

namespace {

// Every source is read before the ghost is touched (any failure leaves its previous contents),
// then the ghost gets what changed. Shared by a pull request and the refresh timer.
Result<protocol::Pulled> pull_into_ghost(Holder& h, const PullSettings& s, int conn) {
    std::vector<std::string> warnings;
    std::optional<InfisicalPull> infisical;
    if (s.infisical) {
        auto pulled = pull_infisical(h, s, conn, warnings);
        if (!pulled) return std::move(pulled).error();
        infisical = std::move(*pulled);
        warn_skipped(infisical->pulled.skipped, warnings);
    }
    std::optional<VaultPullResult> vault;
    if (s.vault) {
        auto pulled = pull_vault(h, *s.vault, s.offline, conn, warnings);
        if (!pulled) return std::move(pulled).error();
        vault = std::move(*pulled);
        warn_skipped(vault->pulled.skipped, warnings);
    }
    std::size_t count = (infisical ? infisical->pulled.secrets.size() : 0) + (vault ? vault->pulled.secrets.size() : 0);
    progress(conn, "writing " + std::to_string(count) + " secrets into the ghost");
    PullContents contents;
    contents.settings = &s;
    contents.infisical = infisical ? &infisical->pulled : nullptr;
    contents.vault = vault ? &vault->pulled : nullptr;
    contents.new_certificates = vault && !vault->issued.empty();
    contents.certificates = contents.new_certificates ? &vault->issued : &h.vault.certificates;
    PullChanges changes;
    GP_TRY(fill_ghost(h, contents, warnings, changes));
    if (infisical) commit_infisical_pull(h, s, *infisical, warnings);
    if (vault) commit_vault_pull(h, *s.vault, *vault, warnings);
    arm_renewal(h);
    bool any_cache = (infisical && infisical->source == "cache") || (vault && vault->source == "cache");
    std::uint64_t fetched = now_seconds();
    if (infisical) fetched = std::min(fetched, infisical->fetched_at);
    if (vault) fetched = std::min(fetched, vault->fetched_at);
    return protocol::Pulled{count,
                            any_cache ? "cache" : "server",
                            fetched,
                            std::move(warnings),
                            std::move(changes.added),
                            std::move(changes.changed),
                            std::move(changes.removed)};
}

}  // namespace

void serve_pull(Holder& h, int conn, std::string_view settings_json) {
    auto settings = parse_pull_settings(settings_json);
    if (!settings) {
        answer(conn, settings.error());
        return;
    }
    if (auto refused = check_trusted(h, *settings); !refused) {
        answer(conn, refused.error());
        return;
    }
    // Everything else (mappings, HOME, timeouts, the refresh interval) is the unlocking
    // command's too: a request only chooses --offline and --no-shell.
    PullSettings s = *h.trusted_pull;
    s.offline = settings->offline;
    s.keep = settings->keep;
    auto pulled = pull_into_ghost(h, s, conn);
    ::malloc_trim(0);  // a pull's answer, maps and names are freed: the holder gives the pages back
    arm_refresh(h);  // the interval counts from the last pull, asked for or timed
    if (!pulled) return answer(conn, pulled.error());
    if (s.keep) {
        h.keep = true;
        disarm_timer(h.idle_timer.get());
    }
    answer(conn, *pulled);
}

void arm_refresh(Holder& h) {
    std::uint64_t every = 0;
    if (h.trusted_pull) {
        for (std::uint64_t s : {h.trusted_pull->infisical ? h.trusted_pull->refresh_seconds : 0,
                                h.trusted_pull->vault ? h.trusted_pull->vault->refresh_seconds : 0})
            if (s && (every == 0 || s < every)) every = s;
    }
    // Only a ghost that a pull filled is refreshed: the first pull is the unlocking command's.
    h.refresh_every = every && (h.pull.active || h.vault.active) ? every : 0;
    if (h.refresh_every == 0) return disarm_timer(h.refresh_timer.get());
    arm_timer(h.refresh_timer.get(), every);
}

void refresh_on_timer(Holder& h) {
    if (h.trusted_pull && (h.pull.active || h.vault.active)) {
        PullSettings s = *h.trusted_pull;
        // Nobody waits on a timed refresh, but every client waits while the holder is busy: an
        // unreachable server is given up on quickly (the next interval tries again).
        auto quick = [](HttpSettings& http) {
            http.connect_timeout_ms = std::min<std::uint64_t>(http.connect_timeout_ms, 3000);
            http.retry_budget_ms = std::min<std::uint64_t>(http.retry_budget_ms, 5000);
        };
        quick(s.http);
        if (s.vault) quick(s.vault->http);
        auto pulled = pull_into_ghost(h, s, -1);
        ::malloc_trim(0);
        h.refreshes += 1;
        h.refresh_failures = pulled ? 0 : h.refresh_failures + 1;  // a failure keeps the ghost's contents
        h.refresh_error = pulled ? "" : pulled.error().describe();
    }
    arm_refresh(h);
}

namespace {

void renew_infisical_token(Holder& h) {
    if (!h.pull.have_token || !h.pull.token_ours) return;
    auto client = InfisicalClient::create(h.pull.settings.target, quick_http_settings(h.pull.settings.http));
    if (!client) {
        h.pull.retry_at = now_seconds() + kRenewRetrySeconds;
        return;
    }
    auto renewed = client->renew(h.pull.token);
    if (renewed) {
        h.pull.token = std::move(*renewed);
        h.pull.renewals += 1;
    } else if (auth_refused(renewed.error())) {
        // Past its max TTL, or revoked: the client policy is to log in again.
        if (!log_in(h, *client, h.pull.settings)) {
            h.pull.retry_at = now_seconds() + kRenewRetrySeconds;
            return;
        }
        h.pull.renewals += 1;
    } else {
        h.pull.retry_at = now_seconds() + kRenewRetrySeconds;
        return;
    }
    h.pull.retry_at = 0;
}

void revoke_infisical_token(Holder& h) {
    if (!h.pull.have_token || !h.pull.token_ours) return;
    if (auto client = InfisicalClient::create(h.pull.settings.target, quick_http_settings(h.pull.settings.http))) {
        client->start_budget();
        (void)client->revoke(h.pull.token);
    }
    h.pull.token = AccessToken{};
    h.pull.have_token = false;
    h.pull.retry_at = 0;
}

}  // namespace

void renew_token(Holder& h) {
    // The one timer serves both tokens: whichever is due (within a second) is renewed.
    std::uint64_t now = now_seconds();
    if (auto due = infisical_renewal_due(h); due && due <= now + 1) renew_infisical_token(h);
    if (auto due = vault_renewal_due(h); due && due <= now + 1) renew_vault_token(h);
    arm_renewal(h);
}

void revoke_token(Holder& h) {
    revoke_infisical_token(h);
    revoke_vault_token(h);
}

}  // namespace ghostpod
