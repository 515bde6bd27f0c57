// The vault file's header: fixed fields, keyslots and the header MAC. man/ghostpod-vault.5
// documents every byte; keep the two in step.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "vault/kdf.hpp"
#include "vault/result.hpp"

namespace ghostpod {

inline constexpr std::array<std::uint8_t, 8> kMagic{'G', 'H', 'O', 'S', 'T', 'P', 'O', 'D'};
inline constexpr std::uint16_t kFormatVersion = 1;
inline constexpr std::size_t kFixedHeaderBytes = 64;
inline constexpr std::size_t kKeyslotBytes = 104;
inline constexpr std::size_t kHeaderMacBytes = 32;
inline constexpr std::size_t kVaultIdBytes = 16;
inline constexpr std::size_t kMaxKeyslots = 8;
inline constexpr std::size_t kWrapNonceBytes = 24;           // XChaCha20-Poly1305 nonce
inline constexpr std::size_t kWrappedKeyBytes = kKeyBytes + 16;  // DEK + Poly1305 tag
inline constexpr std::size_t kSlotParamBytes = 32;           // keyslot bytes covered by its AAD

enum class SlotType : std::uint8_t { passphrase = 1, recovery = 2 };
enum class SlotKdf : std::uint8_t { argon2id = 1, blake2b = 2 };

struct Keyslot {
    SlotType type = SlotType::passphrase;
    SlotKdf kdf = SlotKdf::argon2id;
    KdfProfile profile = KdfProfile::moderate;
    Argon2Params params{};
    std::array<std::uint8_t, kSaltBytes> salt{};
    std::array<std::uint8_t, kWrapNonceBytes> nonce{};
    std::array<std::uint8_t, kWrappedKeyBytes> wrapped{};
};

struct Header {
    std::uint16_t version = kFormatVersion;
    std::array<std::uint8_t, kVaultIdBytes> vault_id{};
    std::uint64_t created = 0;     // unix seconds
    std::uint64_t updated = 0;     // unix seconds of the last write of any kind
    std::uint64_t generation = 0;  // +1 on every write that changes entries
    std::uint32_t entry_count = 0;
    std::vector<Keyslot> slots;
    std::array<std::uint8_t, kHeaderMacBytes> mac{};

    std::size_t length() const { return kFixedHeaderBytes + slots.size() * kKeyslotBytes + kHeaderMacBytes; }
};

// Parses the header's structure; no key is needed and nothing is authenticated yet.
// Every failure is ErrorCode::unlock (a damaged or foreign file).
Result<Header> parse_header(std::span<const std::uint8_t> file);
// The header bytes covered by the MAC (everything before it).
std::vector<std::uint8_t> encode_header_body(const Header& header);
// Additional data binding a keyslot to this vault and to its own KDF parameters.
std::vector<std::uint8_t> keyslot_aad(const Header& header, const Keyslot& slot);
// Additional data for every payload chunk: binds the payload to this vault and generation.
std::vector<std::uint8_t> payload_aad(const Header& header);

}  // namespace ghostpod
