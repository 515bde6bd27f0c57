// The holder's Infisical work: log in with the vault's machine identity, pull, fill the ghost,
// keep the offline cache in the vault, renew the token and revoke it at the end.
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

void progress(int conn, const std::string& text) { answer(conn, protocol::Progress{text}); }

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
    if (h.pull.have_token && h.pull.token_ours && !same_server) revoke_token(h);
    if (h.pull.have_token && same_server) return {};
    return log_in(h, client, s);
}

bool auth_failure(const Error& e) { return e.code == ErrorCode::network && (e.errnum == 401 || e.errnum == 403); }

// Network trouble rather than a refusal: the cases the offline cache is for.
bool unreachable(const Error& e) {
    if (e.code != ErrorCode::network) return false;
    if (e.errnum < 0) return transport_unreachable(-e.errnum);  // not a TLS failure: that may be an impostor
    return e.errnum == 429 || e.errnum >= 500;
}

Result<PulledSecrets> fetch(Holder& h, const PullSettings& s, int conn) {
    bool same_server = h.pull.active && h.pull.settings.target.base_url == s.target.base_url;
    auto client = InfisicalClient::create(s.target, s.http);
    if (!client) return std::move(client).error();
    client->start_budget();  // retry_for bounds the whole pull, not each request
    bool fresh_login = !(h.pull.have_token && same_server);
    progress(conn, (fresh_login ? "logging in to " : "pulling from ") + s.target.base_url);
    GP_TRY(ensure_token(h, *client, s, same_server));
    progress(conn, "pulling " + s.target.environment + ":" + joined_paths(s.target.paths) + " from " + s.target.base_url);
    auto pulled = client->list(h.pull.token);
    if (!pulled && auth_failure(pulled.error()) && !fresh_login && h.pull.token_ours) {
        // The session's token was revoked or expired on the server's side: log in once more.
        h.pull.have_token = false;
        GP_TRY(log_in(h, *client, s));
        pulled = client->list(h.pull.token);
    }
    return pulled;
}

// A keyed digest of what a pull returned (and from where), to tell whether the cache is stale.
std::array<std::uint8_t, 32> pulled_digest(const PullSettings& s, const PulledSecrets& pulled) {
    static std::array<std::uint8_t, crypto_generichash_KEYBYTES> key = [] {
        std::array<std::uint8_t, crypto_generichash_KEYBYTES> k{};
        randombytes_buf(k.data(), k.size());
        return k;
    }();
    crypto_generichash_state state;
    crypto_generichash_init(&state, key.data(), key.size(), 32);
    auto add = [&](std::span<const std::uint8_t> bytes) {
        std::uint64_t n = bytes.size();
        crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&n), sizeof n);
        crypto_generichash_update(&state, bytes.data(), bytes.size());
    };
    for (const std::string& field : {s.target.base_url, s.target.project_id, s.target.environment, joined_paths(s.target.paths)})
        add(text_bytes(field));
    for (const auto& secret : pulled.secrets) {
        add(text_bytes(secret.key));
        add(text_bytes(secret.folder));
        add(pulled.value(secret));
    }
    std::array<std::uint8_t, 32> out{};
    crypto_generichash_final(&state, out.data(), out.size());
    sodium_memzero(&state, sizeof state);
    return out;
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

Status save_cache(Holder& h, const PullSettings& s, const PulledSecrets& pulled) {
    auto encoded = encode_pull_cache(s, pulled, now_seconds());
    if (!encoded) return std::move(encoded).error();
    auto lock = VaultLock::acquire(h.vault_path);
    if (!lock) return std::move(lock).error();
    auto vault = reopen_vault(h);
    if (!vault) return std::move(vault).error();
    Entry entry;
    entry.name = kPullCacheEntry;
    entry.kind = EntryKind::token_cache;
    entry.mode = 0400;
    entry.updated = now_seconds();
    entry.source = "infisical:" + s.target.base_url;
    GP_TRY(vault->put(std::move(entry), encoded->bytes()));
    // Our own write: unless the vault had already changed elsewhere, the session still holds
    // the newest generation, so a later 'save' must not call this a conflict.
    bool was_current = vault->header().generation == h.base_generation;
    GP_TRY(save_vault(*vault, h.vault_path));
    if (was_current) h.base_generation = vault->header().generation;
    return {};
}

// A vault identity without a pin is pinned to where its first successful pull went; returns the
// notice for the user, or "" when nothing was pinned.
Result<std::string> pin_on_first_pull(Holder& h, const PullSettings& s) {
    bool env_identity = !h.env_client_id.empty() && !h.env_client_secret.empty();
    if (env_identity || !h.env_token.empty()) return std::string();  // not the vault's identity
    auto lock = VaultLock::acquire(h.vault_path);
    if (!lock) return std::move(lock).error();
    auto vault = reopen_vault(h);
    if (!vault) return std::move(vault).error();
    auto existing = read_pin(*vault, kInfisicalBackend);
    if (!existing) return std::move(existing).error();
    if (*existing || !vault->find(kClientSecretEntry)) return std::string();
    auto pin = make_pin(kInfisicalBackend, s.target.base_url, s.http.cacert, "first pull", now_seconds());
    if (!pin) return std::move(pin).error();
    GP_TRY(store_pin(*vault, *pin));
    bool was_current = vault->header().generation == h.base_generation;
    GP_TRY(save_vault(*vault, h.vault_path));
    if (was_current) h.base_generation = vault->header().generation;
    return "pinned the vault's machine identity to " + describe_pin(*pin) +
           ": it is sent nowhere else ('ghostpod identity set --host URL' changes that)";
}

// Appends value as an HCL string literal: quotes and backslashes escaped, control characters
// as escapes, and "${" / "%{" doubled so terraform reads them literally.
Status append_hcl_string(SecretBuffer& out, std::span<const std::uint8_t> value) {
    GP_TRY(out.push_back('"'));
    for (std::size_t i = 0; i < value.size(); ++i) {
        std::uint8_t c = value[i];
        bool template_start = i + 1 < value.size() && value[i + 1] == '{' && (c == '$' || c == '%');
        if (c == '"' || c == '\\') {
            GP_TRY(out.push_back('\\'));
            GP_TRY(out.push_back(c));
        } else if (c == '\n') {
            GP_TRY(out.append(text_bytes("\\n")));
        } else if (c == '\r') {
            GP_TRY(out.append(text_bytes("\\r")));
        } else if (c == '\t') {
            GP_TRY(out.append(text_bytes("\\t")));
        } else {
            GP_TRY(out.push_back(c));
            if (template_start) GP_TRY(out.push_back(c));
        }
    }
    return out.push_back('"');
}

// The .tfvars file: `name = "value"` per configured variable, built in secret memory.
Result<SecretBuffer> tfvars_file(const PullSettings& s, const PulledSecrets& pulled, std::vector<std::string>& missing) {
    auto out = SecretBuffer::allocate(0);
    if (!out) return out;
    GP_TRY(out->append(text_bytes("# written by ghostpod pull; exists only inside the ghost\n")));
    for (const auto& [variable, key] : s.tfvars) {
        const PulledSecret* secret = pulled.find(key);
        if (!secret) {
            missing.push_back(key);
            continue;
        }
        GP_TRY(out->append(text_bytes(variable + " = ")));
        GP_TRY(append_hcl_string(*out, pulled.value(*secret)));
        GP_TRY(out->push_back('\n'));
    }
    return out;
}

Status fill_ghost(Holder& h, const PullSettings& s, const PulledSecrets& pulled, std::vector<std::string>& warnings) {
    std::vector<GhostFile> files;
    for (const auto& secret : pulled.secrets)
        files.push_back({kPulledPrefix + secret.key, pulled.value(secret), 0400, pulled_mapping_for(s, secret.key)});
    SecretBuffer tfvars;
    if (!s.tfvars_path.empty()) {
        std::vector<std::string> missing;
        auto built = tfvars_file(s, pulled, missing);
        if (!built) return std::move(built).error();
        tfvars = std::move(*built);
        for (const auto& key : missing) warnings.push_back("infisical.tfvars names " + key + ", which the pull did not return");
        files.push_back({"infisical.auto.tfvars", tfvars.bytes(), 0400, SecretMapping{s.tfvars_path, "", false}});
    }
    std::set<std::string> now;
    for (const auto& f : files) now.insert(f.name);
    std::vector<std::string> gone;
    for (const auto& name : h.pull.files)
        if (!now.count(name)) gone.push_back(name);
    GhostWriter writer = h.writer(s.home);
    // Checked before anything is touched, counting what goes: a refresh that cannot fit leaves
    // the ghost as it was.
    std::uint64_t total = h.layout.bytes;
    for (const auto& name : gone) total -= h.layout.sizes[name];
    for (const auto& f : files) total = total - (h.layout.sizes.count(f.name) ? h.layout.sizes[f.name] : 0) + f.value.size();
    if (total > writer.ram_limit)
        return make_error(ErrorCode::runtime, "write the pulled secrets into the ghost",
                          "they need " + std::to_string(total >> 20) + " MiB, more than the RAM limit of " +
                              std::to_string(writer.ram_limit >> 20) + " MiB; the ghost keeps its previous contents",
                          "raise session.ram_limit_mib in the config");
    Status written = remove_ghost_files(writer, gone, h.layout);
    if (written) written = write_ghost_files(writer, files, h.layout);
    // Whatever happened, the list of pulled files is what the ghost now holds.
    h.pull.files.clear();
    for (const auto& name : h.layout.secrets)
        if (now.count(name) || std::find(gone.begin(), gone.end(), name) != gone.end()) h.pull.files.push_back(name);
    return written;
}

void arm_renewal(Holder& h) {
    if (!h.pull.have_token || !h.pull.token_ours || h.pull.token.expires_in == 0) {
        disarm_timer(h.renew_timer.get());
        return;
    }
    std::uint64_t at = h.pull.token.obtained_at + h.pull.token.expires_in * 8 / 10;
    std::uint64_t now = now_seconds();
    arm_timer(h.renew_timer.get(), at > now ? at - now : 0);
}

}  // namespace

void answer(int conn, const protocol::Reply& reply) { (void)protocol::send(conn, reply); }

namespace {

std::string age_text(std::uint64_t seconds) {
    if (seconds < 120) return std::to_string(seconds) + " s";
    if (seconds < 7200) return std::to_string(seconds / 60) + " min";
    if (seconds < 172800) return std::to_string(seconds / 3600) + " h";
    return std::to_string(seconds / 86400) + " days";
}

// A pull request may come from any process of the user: it must not point the holder (and the
// vault's identity) at another server, CA, project or folder than the unlocking command chose.
Status check_trusted(const Holder& h, const PullSettings& s) {
    if (!h.trusted_pull)
        return make_error(ErrorCode::session, "pull in the running session",
                          "it was started without an Infisical configuration",
                          "end it with 'ghostpod lock', then run 'ghostpod pull'");
    const PullSettings& t = *h.trusted_pull;
    if (t.target.base_url != s.target.base_url || t.http.cacert != s.http.cacert || t.http.extra_headers != s.http.extra_headers ||
        t.target.project_id != s.target.project_id || t.target.environment != s.target.environment ||
        t.target.paths != s.target.paths || t.target.organization_slug != s.target.organization_slug)
        return make_error(ErrorCode::session, "pull in the running session",
                          "it pulls from " + t.target.base_url + " (project " + t.target.project_id + ", " + t.target.environment +
                              ":" + joined_paths(t.target.paths) + "), and this pull asks for another server, CA, project or folder",
                          "end it with 'ghostpod lock' and pull again to use the new settings");
    return {};
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
    // Everything else (mappings, HOME, timeouts) is the unlocking command's too: a request only
    // chooses --offline and --no-shell.
    PullSettings s = *h.trusted_pull;
    s.offline = settings->offline;
    s.keep = settings->keep;
    std::vector<std::string> warnings;
    std::string source = "server";
    std::uint64_t fetched_at = now_seconds();
    Result<PulledSecrets> pulled = PulledSecrets{};
    if (!s.offline) pulled = fetch(h, s, conn);
    // The cache stands in for an unreachable server only when the ghost has no pull yet: a
    // failed refresh keeps what the ghost has.
    if (s.offline || (!pulled && unreachable(pulled.error()) && !h.pull.active)) {
        auto cache = load_cache(h);
        if (!cache || !cache_matches(*cache, s)) {
            Error e = s.offline ? (cache ? make_error(ErrorCode::network, "use the offline cache",
                                                      "it was pulled from another server, project, environment or paths",
                                                      "run 'ghostpod pull' once online with this config")
                                         : std::move(cache).error())
                                : std::move(pulled).error();
            if (!s.offline && !e.hint.empty()) e.hint += "; there is no usable offline cache";
            answer(conn, e);
            return;
        }
        if (!s.offline) warnings.push_back("could not reach " + s.target.base_url + ": " + pulled.error().why);
        fetched_at = cache->fetched_at;
        warnings.push_back("using the offline cache from " + age_text(now_seconds() - std::min(now_seconds(), fetched_at)) +
                           " ago (" + std::to_string(cache->pulled.secrets.size()) + " secrets)");
        pulled = std::move(cache->pulled);
        source = "cache";
    }
    if (!pulled) {
        answer(conn, pulled.error());
        return;
    }
    if (!pulled->skipped.empty()) {
        std::string listed;
        for (std::size_t i = 0; i < pulled->skipped.size() && i < 10; ++i) listed += (i ? ", " : "") + pulled->skipped[i];
        warnings.push_back("skipped " + std::to_string(pulled->skipped.size()) + " key(s) not usable as file names: " + listed +
                           (pulled->skipped.size() > 10 ? ", …" : ""));
    }
    progress(conn, "writing " + std::to_string(pulled->secrets.size()) + " secrets into the ghost");
    // Nothing in the ghost changed before this point: a failed pull leaves the previous contents.
    if (auto filled = fill_ghost(h, s, *pulled, warnings); !filled) {
        answer(conn, filled.error());
        return;
    }
    // The cache is rewritten when the contents changed, or to refresh its age after an hour: a
    // refresh that finds nothing new costs no vault write.
    auto digest = pulled_digest(s, *pulled);
    if (source == "server") {
        if (auto pinned = pin_on_first_pull(h, s); !pinned) warnings.push_back("the identity was not pinned: " + pinned.error().describe());
        else if (!pinned->empty()) warnings.push_back(*pinned);
    }
    if (source == "server" && (digest != h.pull.cached_digest || now_seconds() - h.pull.cached_at >= 3600)) {
        if (auto saved = save_cache(h, s, *pulled); !saved) {
            warnings.push_back("the offline cache was not saved: " + saved.error().describe());
        } else {
            h.pull.cached_digest = digest;
            h.pull.cached_at = now_seconds();
        }
    }
    h.pull.active = true;
    h.pull.settings = s;
    h.pull.last_pull = fetched_at;
    h.pull.source = source;
    arm_renewal(h);
    if (s.keep) {
        h.keep = true;
        disarm_timer(h.idle_timer.get());
    }
    answer(conn, protocol::Pulled{pulled->secrets.size(), source, fetched_at, warnings});
}

namespace {

// The holder serves nobody while it waits on the network: its own calls get a short budget.
HttpSettings quick_settings(const HttpSettings& http) {
    HttpSettings quick = http;
    quick.connect_timeout_ms = std::min<std::uint64_t>(quick.connect_timeout_ms, 3000);
    quick.request_timeout_ms = std::min<std::uint64_t>(quick.request_timeout_ms, 5000);
    quick.retry_budget_ms = std::min<std::uint64_t>(quick.retry_budget_ms, 5000);
    return quick;
}

}  // namespace

void renew_token(Holder& h) {
    if (!h.pull.have_token || !h.pull.token_ours) return;
    auto client = InfisicalClient::create(h.pull.settings.target, quick_settings(h.pull.settings.http));
    if (!client) return arm_timer(h.renew_timer.get(), kRenewRetrySeconds);
    auto renewed = client->renew(h.pull.token);
    if (renewed) {
        h.pull.token = std::move(*renewed);
        h.pull.renewals += 1;
    } else if (auth_failure(renewed.error())) {
        // Past its max TTL, or revoked: the client policy is to log in again.
        if (!log_in(h, *client, h.pull.settings)) return arm_timer(h.renew_timer.get(), kRenewRetrySeconds);
        h.pull.renewals += 1;
    } else {
        return arm_timer(h.renew_timer.get(), kRenewRetrySeconds);
    }
    arm_renewal(h);
}

void revoke_token(Holder& h) {
    if (!h.pull.have_token || !h.pull.token_ours) return;
    if (auto client = InfisicalClient::create(h.pull.settings.target, quick_settings(h.pull.settings.http))) {
        client->start_budget();
        (void)client->revoke(h.pull.token);
    }
    h.pull.token = AccessToken{};
    h.pull.have_token = false;
}

}  // namespace ghostpod
