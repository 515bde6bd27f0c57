// What the holder's pulls from Infisical and Vault share: progress lines, short network budgets
// for its own calls, how errors are told apart, and the offline caches' digest and vault entry.
#include <sodium.h>

#include <algorithm>

#include "pod/session/holder_state.hpp"
#include "pod/unlock/identity_pin.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/store.hpp"

namespace ghostpod {

void send_progress(int conn, const std::string& text) { answer(conn, protocol::Progress{text}); }

HttpSettings quick_http_settings(const HttpSettings& http) {
    HttpSettings quick = http;
    quick.connect_timeout_ms = std::min<std::uint64_t>(quick.connect_timeout_ms, 3000);
    quick.request_timeout_ms = std::min<std::uint64_t>(quick.request_timeout_ms, 5000);
    quick.retry_budget_ms = std::min<std::uint64_t>(quick.retry_budget_ms, 5000);
    return quick;
}

std::string age_text(std::uint64_t seconds) {
    if (seconds < 120) return std::to_string(seconds) + " s";
    if (seconds < 7200) return std::to_string(seconds / 60) + " min";
    if (seconds < 172800) return std::to_string(seconds / 3600) + " h";
    return std::to_string(seconds / 86400) + " days";
}

std::array<std::uint8_t, 32> keyed_digest(const std::vector<std::span<const std::uint8_t>>& fields) {
    static std::array<std::uint8_t, crypto_generichash_KEYBYTES> key = [] {
        std::array<std::uint8_t, crypto_generichash_KEYBYTES> k{};
        randombytes_buf(k.data(), k.size());
        return k;
    }();
    crypto_generichash_state state;
    crypto_generichash_init(&state, key.data(), key.size(), 32);
    for (auto bytes : fields) {
        std::uint64_t n = bytes.size();  // framed: ("ab", "c") and ("a", "bc") differ
        crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&n), sizeof n);
        crypto_generichash_update(&state, bytes.data(), bytes.size());
    }
    std::array<std::uint8_t, 32> out{};
    crypto_generichash_final(&state, out.data(), out.size());
    sodium_memzero(&state, sizeof state);
    return out;
}

Status write_cache_entry(Holder& h, const char* name, const std::string& source, std::span<const std::uint8_t> encoded,
                         const std::function<bool(const Entry&)>& keep, bool* kept) {
    auto lock = VaultLock::acquire(h.vault_path);
    if (!lock) return std::move(lock).error();
    auto vault = reopen_vault(h);
    if (!vault) return std::move(vault).error();
    if (const Entry* stored = keep ? vault->find(name) : nullptr; stored && keep(*stored)) {
        if (kept) *kept = true;
        return {};
    }
    Entry entry;
    entry.name = name;
    entry.kind = EntryKind::token_cache;
    entry.mode = 0400;
    entry.updated = now_seconds();
    entry.source = source;
    GP_TRY(vault->put(std::move(entry), encoded));
    // Our own write: unless the vault had already changed elsewhere, the session still holds
    // the newest generation, so a later 'save' must not call this a conflict.
    bool was_current = vault->header().generation == h.base_generation;
    GP_TRY(save_vault(*vault, h.vault_path));
    if (was_current) h.base_generation = vault->header().generation;
    return {};
}

bool auth_refused(const Error& e) { return e.code == ErrorCode::network && (e.errnum == 401 || e.errnum == 403); }

bool server_unreachable(const Error& e) {
    if (e.code != ErrorCode::network) return false;
    if (e.errnum < 0) return transport_unreachable(-e.errnum);  // not a TLS failure: that may be an impostor
    return e.errnum == 429 || e.errnum >= 500;
}

Result<std::string> pin_on_first_pull(Holder& h, const char* backend, const char* secret_entry, const std::string& base_url,
                                      const std::string& cacert, const std::string& what, const std::string& repin) {
    auto lock = VaultLock::acquire(h.vault_path);
    if (!lock) return std::move(lock).error();
    auto vault = reopen_vault(h);
    if (!vault) return std::move(vault).error();
    auto existing = read_pin(*vault, backend);
    if (!existing) return std::move(existing).error();
    if (*existing || !vault->find(secret_entry)) return std::string();
    auto pin = make_pin(backend, base_url, cacert, "first pull", now_seconds());
    if (!pin) return std::move(pin).error();
    GP_TRY(store_pin(*vault, *pin));
    bool was_current = vault->header().generation == h.base_generation;
    GP_TRY(save_vault(*vault, h.vault_path));
    if (was_current) h.base_generation = vault->header().generation;
    return "pinned the vault's " + what + " to " + describe_pin(*pin) + ": it is sent nowhere else ('" + repin +
           "' changes that)";
}

}  // namespace ghostpod
