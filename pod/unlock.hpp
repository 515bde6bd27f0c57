// Getting from the command line to an unlocked vault, and back to disk.
#pragma once

#include <cstdint>
#include <string>

#include "pod/cli.hpp"
#include "vault/format.hpp"
#include "vault/secret_buffer.hpp"
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

}  // namespace ghostpod
