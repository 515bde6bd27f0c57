// The Vault offline cache: the KV keys of the last successful pull from Vault, one vault entry
// (kind token-cache, name "vault.cache") so it is encrypted like everything else in the vault.
// Certificates issued per session are never in it: they die with their session.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "pod/hcvault/answers.hpp"
#include "pod/hcvault/settings.hpp"

namespace ghostpod {

struct CachedVaultPull {
    std::uint64_t fetched_at = 0;
    std::string address, name_space, kv;  // kv paths joined with ','
    KvPulled pulled;
};

// "GPVC" v1, u64 time, three u16-length strings (address, namespace, kv paths), u32 count, then
// per key u16 mount, u16 path, u16 key, u32 value (each length-prefixed). Little-endian.
Result<SecretBuffer> encode_vault_cache(const VaultPullSettings& settings, const KvPulled& pulled, std::uint64_t now);
Result<CachedVaultPull> decode_vault_cache(std::span<const std::uint8_t> bytes);
// Whether the cache was pulled from the same server, namespace and KV paths.
bool vault_cache_matches(const CachedVaultPull& cache, const VaultPullSettings& settings);

}  // namespace ghostpod
