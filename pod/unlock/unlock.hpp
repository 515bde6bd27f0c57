// Getting from the command line to an unlocked vault, and back to disk.
#pragma once

#include <cstdint>
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

// The recovery key from --recovery-key-fd, the passphrase from --passphrase-fd, or the
// passphrase from the terminal, in that order of preference.
Result<HeldCredential> obtain_credential(const Context& context, const std::string& vault_path);
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

// Runs `change` on the unlocked vault and saves it, holding the writer lock across unlock,
// change and save so that concurrent writers never lose an update.
template <class Change>
Status change_vault(const Context& context, Change&& change) {
    auto path = existing_vault_path(context);
    if (!path) return std::move(path).error();
    auto credential = obtain_credential(context, *path);
    if (!credential) return std::move(credential).error();
    auto lock = VaultLock::acquire(*path);
    if (!lock) return std::move(lock).error();
    auto vault = open_vault(*path, *credential);
    if (!vault) return std::move(vault).error();
    GP_TRY(change(*vault, *path));
    return save_vault(*vault, *path);
}

}  // namespace ghostpod
