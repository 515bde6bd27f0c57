// age X25519 identities made with libsodium, in age's text form: Bech32 (BIP 173) with the
// "age-secret-key-" HRP (upper-cased) for the identity and "age" for the recipient.
// Every encoding of secret bytes lives in SecretBuffer memory; intermediates are wiped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

namespace bech32 {

// BIP 173 caps a string at 90 characters; an age identity (74) and recipient (62) fit.
inline constexpr std::size_t kMaxLength = 90;
inline constexpr std::size_t kChecksumWords = 6;

// A decoded string: its HRP in lower case and its data as 5-bit words (checksum removed).
struct Decoded {
    std::string hrp;
    SecretBuffer words;
};

// Encodes 5-bit `words` under `hrp` (lower case, 1..83 printable ASCII) in lower case.
Result<SecretBuffer> encode_words(std::string_view hrp, std::span<const std::uint8_t> words);
// Checks the checksum, the character set, case and length; ErrorCode::usage when invalid.
Result<Decoded> decode_words(std::string_view text);

// 8-bit bytes to 5-bit words (zero-padded) and back (padding must be zero and under 5 bits).
Result<SecretBuffer> bytes_to_words(std::span<const std::uint8_t> bytes);
Result<SecretBuffer> words_to_bytes(std::span<const std::uint8_t> words);

// Bytes to a lower-case Bech32 string, and a Bech32 string with the expected HRP to bytes.
Result<SecretBuffer> encode(std::string_view hrp, std::span<const std::uint8_t> bytes);
Result<SecretBuffer> decode(std::string_view text, std::string_view expected_hrp);

}  // namespace bech32

inline constexpr std::size_t kAgeKeyBytes = 32;
inline constexpr std::string_view kAgeIdentityHrp = "age-secret-key-";
inline constexpr std::string_view kAgeRecipientHrp = "age";

struct AgeIdentity {
    SecretBuffer key_file;  // what age-keygen writes: "# created: …\n# public key: age1…\nAGE-SECRET-KEY-1…\n"
    std::string recipient;  // "age1…": public
};

// A new random identity; `created` is the RFC 3339 time written in the "# created:" line.
Result<AgeIdentity> generate_age_identity(const std::string& created);
// The recipient ("age1…") of an "AGE-SECRET-KEY-1…" identity (surrounding whitespace ignored).
Result<std::string> age_recipient_of(std::span<const std::uint8_t> identity);
// The local time as Go's time.RFC3339 writes it (what age-keygen puts in "# created:").
std::string rfc3339_local_now();

}  // namespace ghostpod
