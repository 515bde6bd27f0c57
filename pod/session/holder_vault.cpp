// The holder's HashiCorp Vault / OpenBao work: log in with the vault's AppRole, read the KV
// paths, issue the session's client certificates (vault.pki), keep the offline cache in the
// vault, renew the token at 80% of its lease and revoke it at the end.

#include <algorithm>

#include "pod/formats/certs.hpp"
#include "pod/hcvault/client.hpp"
#include "pod/hcvault/entries.hpp"
#include "pod/hcvault/keypair.hpp"
#include "pod/hcvault/pull_cache.hpp"
#include "pod/session/holder_state.hpp"
#include "pod/unlock/identity_pin.hpp"
#include "pod/unlock/unlock.hpp"

namespace ghostpod {
namespace {

constexpr std::uint64_t kRenewRetrySeconds = 60;
// A certificate asked for less than this is not worth issuing: the session is about to end.
constexpr std::uint64_t kMinCertificateSeconds = 60;

void progress(int conn, const std::string& text) { send_progress(conn, text); }

// The AppRole goes only where it may: the destination pinned with it in the vault
// (pod/unlock/identity_pin), checked before anything is sent.
Status check_vault_destination(const Vault& vault, const VaultPullSettings& s) {
    auto pin = read_pin(vault, kVaultBackend);
    if (!pin) return std::move(pin).error();
    if (*pin)
        GP_TRY(check_pin(**pin, s.target.address, s.http.cacert, "ghostpod identity set --backend vault --host " + s.target.address));
    return {};
}

Status log_in(Holder& h, VaultClient& client, const VaultPullSettings& s) {
    auto vault = reopen_vault(h);
    if (!vault) return std::move(vault).error();
    const Entry* role_id = vault->find(kVaultRoleIdEntry);
    const Entry* secret_id = vault->find(kVaultSecretIdEntry);
    if (!role_id || !secret_id)
        return make_error(ErrorCode::usage, "log in to " + s.target.address, "the vault holds no AppRole",
                          "store one with 'ghostpod identity set --backend vault' (role_id, then secret_id)");
    GP_TRY(check_vault_destination(*vault, s));
    auto token = client.login(role_id->value(), secret_id->value());
    if (!token) return std::move(token).error();
    h.vault.token = std::move(*token);
    h.vault.have_token = true;
    h.vault.retry_at = 0;
    h.vault.pin_checked = false;  // a new login may have used a newly set AppRole
    h.vault.settings = s;  // where the token is renewed and revoked, even if this pull fails
    return {};
}

Result<KvPulled> read_all(VaultClient& client, const VaultToken& token, const VaultPullSettings& s) {
    KvPulled pulled;
    auto values = SecretBuffer::allocate(0);
    if (!values) return std::move(values).error();
    pulled.values = std::move(*values);
    for (const auto& kv : s.kv) GP_TRY(client.read_kv(token, kv, pulled));
    return pulled;
}

std::string pki_name(const VaultPkiConfig& p) { return p.mount + "/sign/" + p.role; }

// One certificate for the rest of the session: a key pair made here, its CSR signed by Vault.
Result<IssuedCertificate> issue_one(Holder& h, VaultClient& client, const VaultPullSettings& s, std::size_t index,
                                    std::vector<std::string>& warnings) {
    const VaultPkiConfig& p = s.pki[index];
    std::uint64_t ends = h.started + h.settings.ttl_seconds, now = now_seconds();
    std::uint64_t ttl = ends > now ? ends - now : 0;
    auto failed = [&](Error e) {
        e.what = "issue the session's client certificate for " + p.target + " from " + pki_name(p) + ": " + e.what;
        return e;
    };
    if (ttl < kMinCertificateSeconds)
        return failed(make_error(ErrorCode::session, "the session", "ends in " + std::to_string(ttl) + " s", "start a new one"));
    auto pair = make_client_key_pair(p.key_type, p.common_name);
    if (!pair) return failed(std::move(pair).error());
    auto signed_cert = client.sign(h.vault.token, p.mount, p.role, pair->csr_pem, p.common_name, ttl);
    if (!signed_cert) {
        Error e = std::move(signed_cert).error();
        // Named by mount and role, whatever failed: that is what the user configures.
        e.what = "issue the session's client certificate for " + p.target + " (vault.pki[" + std::to_string(index) + "]: mount " +
                 p.mount + ", role " + p.role + ")";
        return e;
    }
    if (!certificate_has_key(signed_cert->certificate, pair->public_key_der))
        return failed(make_error(ErrorCode::network, "check the signed certificate", "it is not for the session's key",
                                 "the server misbehaves; check vault.address"));
    auto found = find_certificates("", text_bytes(signed_cert->certificate));
    if (found.empty())
        return failed(make_error(ErrorCode::network, "read the signed certificate", "it cannot be parsed",
                                 "the server misbehaves; check vault.address"));
    IssuedCertificate c;
    c.pki_index = index;
    c.target = p.target;
    c.certificate_pem = signed_cert->certificate + (signed_cert->certificate.ends_with("\n") ? "" : "\n");
    c.private_key_pem = std::move(pair->private_key_pem);
    c.subject = found[0].subject;
    c.issuer = found[0].issuer;
    c.not_before = found[0].not_before;
    c.not_after = found[0].not_after;
    for (const auto& w : signed_cert->warnings) warnings.push_back(pki_name(p) + ": " + w);
    if (static_cast<std::uint64_t>(std::max<std::int64_t>(c.not_after, 0)) + kMinCertificateSeconds < ends)
        warnings.push_back("the client certificate from " + pki_name(p) + " expires at " + utc_time(c.not_after) +
                           ", before the session (" + utc_time(static_cast<std::int64_t>(ends)) + "): the role's max_ttl caps it");
    return c;
}

// What the KV read returned (and from where), as a keyed digest: whether the cache is stale.
std::array<std::uint8_t, 32> pulled_digest(const VaultPullSettings& s, const KvPulled& pulled) {
    std::vector<std::string> names = {s.target.address, s.name_space, joined_kv_paths(s.kv)};
    for (const auto& secret : pulled.secrets) names.push_back(secret.ghost_name());
    std::vector<std::span<const std::uint8_t>> fields;
    for (const auto& n : names) fields.push_back(text_bytes(n));
    for (const auto& secret : pulled.secrets) fields.push_back(pulled.value(secret));
    return keyed_digest(fields);
}

Result<CachedVaultPull> load_cache(const Holder& h) {
    auto vault = reopen_vault(h);
    if (!vault) return std::move(vault).error();
    const Entry* entry = vault->find(kVaultCacheEntry);
    if (!entry)
        return make_error(ErrorCode::network, "use the Vault offline cache", "the vault holds none yet",
                          "run 'ghostpod pull' once while the Vault server is reachable");
    return decode_vault_cache(entry->value());
}

Status save_cache(Holder& h, const VaultPullSettings& s, const KvPulled& pulled) {
    auto encoded = encode_vault_cache(s, pulled, now_seconds());
    if (!encoded) return std::move(encoded).error();
    return write_cache_entry(h, kVaultCacheEntry, "vault:" + s.target.address, encoded->bytes());
}

}  // namespace

Result<VaultPullResult> pull_vault(Holder& h, const VaultPullSettings& s, bool offline, int conn,
                                   std::vector<std::string>& warnings) {
    VaultPullResult result;
    result.fetched_at = now_seconds();
    bool first_certificates = !s.pki.empty() && h.vault.certificates.empty();
    Result<KvPulled> pulled = KvPulled{};
    if (!offline) {
        auto client = VaultClient::create(s.target, s.http);
        if (!client) return std::move(client).error();
        client->start_budget();  // vault.retry_for bounds the whole pull, not each request
        bool same = h.vault.active && same_vault_source(h.vault.settings, s);
        if (h.vault.have_token && !same) revoke_vault_token(h);
        bool fresh = !h.vault.have_token;
        progress(conn, (fresh ? "logging in to " : "pulling from ") + describe_vault_source(s));
        Status logged_in = fresh ? log_in(h, *client, s) : Status{};
        if (!logged_in) {
            pulled = std::move(logged_in).error();
        } else {
            if (!s.kv.empty()) progress(conn, "reading " + joined_kv_paths(s.kv) + " from " + s.target.address);
            pulled = read_all(*client, h.vault.token, s);
            if (!pulled && auth_refused(pulled.error()) && !fresh) {
                // The session's token was revoked or has expired on the server's side: once more.
                h.vault.have_token = false;
                GP_TRY(log_in(h, *client, s));
                pulled = read_all(*client, h.vault.token, s);
            }
        }
        if (pulled && first_certificates) {
            for (std::size_t i = 0; i < s.pki.size(); ++i) {
                progress(conn, "issuing the session's client certificate from " + pki_name(s.pki[i]));
                auto issued = issue_one(h, *client, s, i, warnings);
                if (!issued) return std::move(issued).error();
                result.issued.push_back(std::move(*issued));
            }
        }
        result.pulled_from_server = static_cast<bool>(pulled);
    }
    // The cache stands in for an unreachable server only on the session's first pull, and only
    // when no certificate is to be issued: a failed refresh keeps what the ghost has, and a
    // session that wants a fresh certificate does not start with a stale one (unless --offline).
    bool fall_back = !offline && !pulled && server_unreachable(pulled.error()) && !h.vault.active && !first_certificates;
    if (offline || fall_back) {
        auto cache = load_cache(h);
        if (!cache || !vault_cache_matches(*cache, s)) {
            Error e = offline ? (cache ? make_error(ErrorCode::network, "use the Vault offline cache",
                                                    "it was pulled from another server, namespace or KV paths",
                                                    "run 'ghostpod pull' once online with this config")
                                       : std::move(cache).error())
                              : std::move(pulled).error();
            if (!offline && !e.hint.empty()) e.hint += "; there is no usable offline cache";
            return e;
        }
        if (fall_back) warnings.push_back("could not reach " + s.target.address + ": " + pulled.error().why);
        warnings.push_back("using the Vault offline cache from " +
                           age_text(now_seconds() - std::min(now_seconds(), cache->fetched_at)) + " ago (" +
                           std::to_string(cache->pulled.secrets.size()) + " keys)");
        if (offline && first_certificates)
            warnings.push_back("no client certificate was issued for this session (--offline): the files of vault.pki are as stored or pulled");
        result.fetched_at = cache->fetched_at;
        result.source = "cache";
        result.pulled = std::move(cache->pulled);
        return result;
    }
    if (!pulled) {
        Error e = std::move(pulled).error();
        if (first_certificates && server_unreachable(e) && !h.vault.active)
            e.hint = "the session needs a fresh client certificate from " + pki_name(s.pki[0]) +
                     "; 'ghostpod pull --offline' starts it without one, from the offline cache";
        return e;
    }
    result.source = "server";
    result.pulled = std::move(*pulled);
    return result;
}

void commit_vault_pull(Holder& h, const VaultPullSettings& s, VaultPullResult& result, std::vector<std::string>& warnings) {
    for (auto& c : result.issued) h.vault.certificates.push_back(std::move(c));
    result.issued.clear();
    // Looked at once per login: it reads (and decrypts) the whole vault, offline cache included.
    if (result.source == "server" && !h.vault.pin_checked) {
        auto pinned = pin_on_first_pull(h, kVaultBackend, kVaultSecretIdEntry, s.target.address, s.http.cacert, "AppRole",
                                        "ghostpod identity set --backend vault --host URL");
        if (!pinned) warnings.push_back("the AppRole was not pinned: " + pinned.error().describe());
        else if (!pinned->empty()) warnings.push_back(*pinned);
        h.vault.pin_checked = static_cast<bool>(pinned);
    }
    auto digest = pulled_digest(s, result.pulled);
    if (result.source == "server" && (digest != h.vault.cached_digest || now_seconds() - h.vault.cached_at >= 3600)) {
        if (auto saved = save_cache(h, s, result.pulled); !saved) {
            warnings.push_back("the Vault offline cache was not saved: " + saved.error().describe());
        } else {
            h.vault.cached_digest = digest;
            h.vault.cached_at = now_seconds();
        }
    }
    h.vault.active = true;
    h.vault.settings = s;
    h.vault.last_pull = result.fetched_at;
    h.vault.source = result.source;
}

std::uint64_t vault_renewal_due(const Holder& h) {
    if (!h.vault.have_token) return 0;
    if (h.vault.retry_at) return h.vault.retry_at;
    if (h.vault.token.lease_seconds == 0) return 0;
    return h.vault.token.obtained_at + h.vault.token.lease_seconds * 8 / 10;
}

void renew_vault_token(Holder& h) {
    if (!h.vault.have_token) return;
    const VaultPullSettings& s = h.vault.settings;
    auto client = VaultClient::create(s.target, quick_http_settings(s.http));
    if (!client) {
        h.vault.retry_at = now_seconds() + kRenewRetrySeconds;
        return;
    }
    std::uint64_t lease = h.vault.token.lease_seconds;
    Result<VaultToken> renewed = h.vault.token.renewable ? client->renew(h.vault.token)
                                                         : Result<VaultToken>(make_error(ErrorCode::network, "renew", "not renewable"));
    // A renewal capped by the token's max TTL buys ever less time: past half the lease, a new login.
    if (renewed && renewed->lease_seconds * 2 >= lease) {
        h.vault.token.lease_seconds = renewed->lease_seconds;
        h.vault.token.obtained_at = renewed->obtained_at;
        h.vault.retry_at = 0;
        h.vault.renewals += 1;
        return;
    }
    if (!renewed && !auth_refused(renewed.error()) && h.vault.token.renewable) {
        h.vault.retry_at = now_seconds() + kRenewRetrySeconds;  // the network: the token may still be good
        return;
    }
    VaultToken old = std::move(h.vault.token);
    h.vault.have_token = false;
    if (!log_in(h, *client, s)) {
        h.vault.token = std::move(old);
        h.vault.have_token = true;
        h.vault.retry_at = now_seconds() + kRenewRetrySeconds;
        return;
    }
    h.vault.renewals += 1;
    if (renewed) (void)client->revoke(old);  // still valid for a while: not left behind
}

void revoke_vault_token(Holder& h) {
    if (!h.vault.have_token) return;
    if (auto client = VaultClient::create(h.vault.settings.target, quick_http_settings(h.vault.settings.http))) {
        client->start_budget();
        (void)client->revoke(h.vault.token);
    }
    h.vault.token = VaultToken{};
    h.vault.have_token = false;
    h.vault.retry_at = 0;
}

}  // namespace ghostpod
