// The vault entries the HashiCorp Vault / OpenBao side owns: the AppRole identity and the
// offline cache (and the identity's pin, "vault.pin", kept by pod/unlock/identity_pin). Names
// starting with "vault." are reserved: 'save' never writes them from the ghost; new files below
// $GHOSTPOD_DIR/vault/ (where KV keys appear) are not saved either.
#pragma once

namespace ghostpod {

inline constexpr const char* kVaultBackend = "vault";
inline constexpr const char* kVaultRoleIdEntry = "vault.role-id";      // kind identity
inline constexpr const char* kVaultSecretIdEntry = "vault.secret-id";  // kind identity
inline constexpr const char* kVaultCacheEntry = "vault.cache";         // kind token-cache; see pull_cache.hpp
inline constexpr const char* kVaultReservedPrefix = "vault.";

}  // namespace ghostpod
