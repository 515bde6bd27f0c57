// Getting from the command line to an unlocked vault, and back to disk.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "pod/cli/args.hpp"
#include "vault/format.hpp"
#include "vault/secret_buffer.hpp"
#include "vault/store.hpp"
#include "vault/vault.hpp"

namespace ghostpod {

struct HeldCredential {
    SlotType type = SlotType::passphrase;
    SecretBuffer secret;
    Credential view() const { return {type, secret.bytes()}; }
};

// A passphrase typed on the terminal may be wrong this many times in a row, as sudo allows;
// each try costs one Argon2id run. --passphrase-fd and --recovery-key-fd get one try.
inline constexpr int kPassphraseTries = 3;

// The recovery key from --recovery-key-fd, the passphrase from --passphrase-fd, or the
// passphrase from the terminal, in that order of preference.
Result<HeldCredential> obtain_credential(const Context& context, const std::string& vault_path);
// Whether the credential comes from the terminal (and a wrong one may be asked again).
bool credential_from_terminal(const Context& context);
// Whether `error` says the passphrase or recovery key did not open the vault.
bool wrong_credential(const Error& error);
// Runs `attempt` with the command line's credential (`first`, when the caller already asked
// for it). When it fails with a wrong passphrase typed on the terminal, says so and asks
// again, up to kPassphraseTries in all; any other failure, or the last wrong try, is returned.
Status with_credential(const Context& context, const std::string& vault_path,
                       const std::function<Status(HeldCredential&)>& attempt, std::optional<HeldCredential> first = std::nullopt);
// Reads and unlocks the vault at `path`; errors name the path.
Result<Vault> open_vault(const std::string& path, const HeldCredential& credential);
// Serialises and atomically replaces the file (the caller holds the VaultLock).
Status save_vault(Vault& vault, const std::string& path);
std::uint64_t now_seconds();

// The located vault path (symlinks followed); a missing vault is an error with a hint, and a
// vault found by the search that is a link or lies outside its project must be allowed (exit 8).
Result<std::string> existing_vault_path(const Context& context);
// Unlocks the vault for reading; `path` receives where it is.
Result<Vault> read_only_vault(const Context& context, std::string& path);

// Runs `change` on the unlocked vault and saves it when it returns true, holding the writer
// lock across unlock, change and save so that concurrent writers never lose an update. The lock
// is let go while a wrong passphrase is asked again.
template <class Change>
Status update_vault(const Context& context, Change&& change) {
    auto path = existing_vault_path(context);
    if (!path) return std::move(path).error();
    return with_credential(
        context, *path,
        [&](HeldCredential& credential) -> Status {
            auto lock = VaultLock::acquire(*path);
            if (!lock) return std::move(lock).error();
            auto vault = open_vault(*path, credential);
            if (!vault) return std::move(vault).error();
            Result<bool> changed = change(*vault, *path);
            if (!changed) return std::move(changed).error();
            return *changed ? save_vault(*vault, *path) : Status{};
        });
}

// update_vault for a change that always saves.
template <class Change>
Status change_vault(const Context& context, Change&& change) {
    return update_vault(context, [&](Vault& vault, const std::string& path) -> Result<bool> {
        GP_TRY(change(vault, path));
        return true;
    });
}

}  // namespace ghostpod
