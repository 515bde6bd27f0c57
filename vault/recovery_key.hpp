// Recovery keys: 32 random bytes shown once as 13 groups of 4 base32 characters.
#pragma once

#include <cstdint>
#include <span>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

inline constexpr std::size_t kRecoveryKeyBytes = 32;

Result<SecretBuffer> generate_recovery_key();
// "ABCD-EFGH-…" (64 characters: 52 base32 + 12 dashes), in secret memory.
Result<SecretBuffer> format_recovery_key(std::span<const std::uint8_t> key);
// Accepts any case, dashes and white space; ErrorCode::usage when it cannot be a recovery key.
Result<SecretBuffer> parse_recovery_key(std::span<const std::uint8_t> text);

}  // namespace ghostpod
