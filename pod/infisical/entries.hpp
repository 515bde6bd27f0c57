// The vault entries the Infisical side owns: the machine identity and the offline cache. Names
// starting with "infisical." are reserved: 'save' never writes them from the ghost.
#pragma once

namespace ghostpod {

inline constexpr const char* kClientIdEntry = "infisical.client-id";
inline constexpr const char* kClientSecretEntry = "infisical.client-secret";
inline constexpr const char* kInfisicalBackend = "infisical";  // its identity's pin: "infisical.pin" (identity_pin.hpp)
inline constexpr const char* kPullCacheEntry = "infisical.cache";  // kind token-cache; see pull_cache.hpp

}  // namespace ghostpod
