// The encrypted payload: the list of entries, serialised and sealed with libsodium's
// secretstream (XChaCha20-Poly1305) so truncation, reordering and tampering are detected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

enum class EntryKind : std::uint8_t { file = 1, env = 2, identity = 3, token_cache = 4 };

inline constexpr std::size_t kMaxNameBytes = 255;
inline constexpr std::size_t kMaxSourceBytes = 1024;
inline constexpr std::size_t kMaxValueBytes = 64u << 20;    // one secret
inline constexpr std::size_t kMaxPayloadBytes = 512u << 20;  // the whole plaintext
inline constexpr std::size_t kChunkBytes = 64u << 10;        // plaintext bytes per secretstream message
inline constexpr std::uint16_t kDefaultMode = 0400;

const char* kind_name(EntryKind kind);
std::optional<EntryKind> parse_kind(std::string_view name);
// Names become file names in the ghost: letters, digits, '.', '_', '-', '@', '+', and '/'
// between non-empty components that are not '.' or '..'.
Status validate_entry_name(std::string_view name);

struct Entry {
    std::string name;
    EntryKind kind = EntryKind::file;
    std::uint16_t mode = kDefaultMode;
    std::uint64_t updated = 0;
    std::string source;  // where the value came from ("stdin", "file:/path", ...), never a value
    // The value lives in secret memory shared by all entries decrypted together.
    std::shared_ptr<const SecretBuffer> store;
    std::size_t offset = 0;
    std::size_t length = 0;

    std::span<const std::uint8_t> value() const {
        return store ? std::span<const std::uint8_t>(store->data() + offset, length) : std::span<const std::uint8_t>{};
    }
};

Result<std::vector<std::uint8_t>> seal_payload(const std::vector<Entry>& entries,
                                               std::span<const std::uint8_t> key,
                                               std::span<const std::uint8_t> aad);
// The secretstream step of seal_payload on an already serialised plaintext (at least one byte;
// 64 KiB chunks, the last tagged final). Exposed for tests/fuzz, which feeds open_payload
// plaintexts of its choosing without going through Entry values.
std::vector<std::uint8_t> seal_plaintext(std::span<const std::uint8_t> plain, std::span<const std::uint8_t> key,
                                         std::span<const std::uint8_t> aad);
// Every failure is ErrorCode::unlock: the payload is damaged, truncated or not this vault's.
Result<std::vector<Entry>> open_payload(std::span<const std::uint8_t> sealed, std::span<const std::uint8_t> key,
                                        std::span<const std::uint8_t> aad, std::uint32_t expected_count);

}  // namespace ghostpod
