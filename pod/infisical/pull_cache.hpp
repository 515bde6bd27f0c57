// The offline cache: the last successful pull, kept as one vault entry (kind token-cache, name
// "infisical.cache") so it is encrypted like everything else in the vault.
#pragma once

#include <cstdint>
#include <string>

#include "pod/infisical/client.hpp"
#include "pod/infisical/entries.hpp"
#include "pod/infisical/pull_settings.hpp"

namespace ghostpod {


struct CachedPull {
    std::uint64_t fetched_at = 0;
    std::string base_url, project_id, environment, paths;  // paths joined with ','
    PulledSecrets pulled;
};

// "GPPC" v1, u64 time, four u16-length strings, u32 count, then per secret u16 key length, key,
// u16 folder length, folder, u32 value length, value. Little-endian.
Result<SecretBuffer> encode_pull_cache(const PullSettings& settings, const PulledSecrets& pulled, std::uint64_t now);
Result<CachedPull> decode_pull_cache(std::span<const std::uint8_t> bytes);
// Whether two encodings hold the same pull (all but the time); `stored_at` gets the stored
// one's time. A session's first pull then rewrites no vault when its cache is current.
bool same_pull_cache(std::span<const std::uint8_t> stored, std::span<const std::uint8_t> fresh, std::uint64_t& stored_at);
// Whether the cache was pulled for the same server, project, environment and paths.
bool cache_matches(const CachedPull& cache, const PullSettings& settings);
std::string joined_paths(const std::vector<std::string>& paths);

}  // namespace ghostpod
