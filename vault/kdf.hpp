// Key derivation for keyslots: Argon2id (libargon2, the reference implementation) for
// passphrases; keyed BLAKE2b for recovery keys, which already carry 256 bits of entropy.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

enum class KdfProfile : std::uint8_t { custom = 0, interactive = 1, moderate = 2, sensitive = 3 };

struct Argon2Params {
    std::uint32_t t_cost = 0;       // passes over memory
    std::uint32_t m_cost_kib = 0;   // memory in KiB
    std::uint32_t parallelism = 0;  // lanes (and threads)
};

// Whole-unlock medians on the 2-core development VM, from tests/bench/bench_vault (quiet machine):
// interactive ≈ 0.11 s, moderate ≈ 0.51 s, sensitive ≈ 2.6 s. Debian's libargon2 has no SIMD
// code, so two lanes only just match libsodium's single optimised lane.
inline constexpr Argon2Params kInteractive{2, 64 * 1024, 2};
inline constexpr Argon2Params kModerate{3, 256 * 1024, 2};
inline constexpr Argon2Params kSensitive{4, 1024 * 1024, 2};

// Bounds applied to parameters read from a vault, so a damaged or hostile header cannot make
// unlock allocate 100 GiB or spin for an hour before the authentication check fails.
inline constexpr std::uint32_t kMinTCost = 1, kMaxTCost = 64;
inline constexpr std::uint32_t kMinMCostKib = 8 * 1024, kMaxMCostKib = 4 * 1024 * 1024;
inline constexpr std::uint32_t kMinParallelism = 1, kMaxParallelism = 16;

inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::size_t kKeyBytes = 32;

Argon2Params params_for(KdfProfile profile);
std::optional<KdfProfile> parse_profile(std::string_view name);
const char* profile_name(KdfProfile profile);
bool params_in_bounds(const Argon2Params& params);

// Derives a 32-byte key-encryption key from a passphrase.
Result<SecretBuffer> derive_argon2id(std::span<const std::uint8_t> passphrase,
                                     std::span<const std::uint8_t> salt, const Argon2Params& params);
// Derives a 32-byte key-encryption key from a 32-byte recovery key.
Result<SecretBuffer> derive_recovery(std::span<const std::uint8_t> recovery_key,
                                     std::span<const std::uint8_t> salt);

}  // namespace ghostpod
