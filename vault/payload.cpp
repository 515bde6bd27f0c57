#include "vault/payload.hpp"

#include <sodium.h>

#include <set>

#include "vault/bytes.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kEntryFixedBytes = 20;  // kind, reserved, mode, updated, three lengths
constexpr std::size_t kStreamHeaderBytes = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr std::size_t kStreamTagBytes = crypto_secretstream_xchacha20poly1305_ABYTES;

Error damaged_payload(std::string why) {
    return make_error(ErrorCode::unlock, "", "damaged payload: " + std::move(why),
                      "restore the previous generation (the .bak file next to the vault) or a backup");
}

}  // namespace

const char* kind_name(EntryKind kind) {
    switch (kind) {
        case EntryKind::file: return "file";
        case EntryKind::env: return "env";
        case EntryKind::identity: return "identity";
        case EntryKind::token_cache: return "token-cache";
    }
    return "unknown";
}

std::optional<EntryKind> parse_kind(std::string_view name) {
    for (auto kind : {EntryKind::file, EntryKind::env, EntryKind::identity, EntryKind::token_cache})
        if (name == kind_name(kind)) return kind;
    return std::nullopt;
}

Status validate_entry_name(std::string_view name) {
    auto bad = [&](std::string why) {
        return make_error(ErrorCode::usage, "invalid secret name '" + std::string(name) + "'", std::move(why),
                          "use letters, digits and . _ - @ +, with / between folder names");
    };
    if (name.empty()) return bad("it is empty");
    if (name.size() > kMaxNameBytes) return bad("longer than " + std::to_string(kMaxNameBytes) + " bytes");
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find('/', start);
        if (end == std::string_view::npos) end = name.size();
        std::string_view part = name.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") return bad("empty, '.' or '..' path component");
        for (char c : part) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-' || c == '@' || c == '+';
            if (!ok) return bad("character '" + std::string(1, c) + "' is not allowed");
        }
        start = end + 1;
    }
    return {};
}

Result<std::vector<std::uint8_t>> seal_payload(const std::vector<Entry>& entries, std::span<const std::uint8_t> key,
                                               std::span<const std::uint8_t> aad) {
    std::size_t total = 4;
    for (const auto& e : entries) total += kEntryFixedBytes + e.name.size() + e.source.size() + e.length;
    if (total > kMaxPayloadBytes)
        return make_error(ErrorCode::usage, "save vault", "the entries exceed " + std::to_string(kMaxPayloadBytes >> 20) + " MiB");
    auto plain = SecretBuffer::allocate(total);
    if (!plain) return std::move(plain).error();
    std::uint8_t* p = plain->data();
    put_u32(p, static_cast<std::uint32_t>(entries.size()));
    p += 4;
    for (const auto& e : entries) {
        p[0] = static_cast<std::uint8_t>(e.kind);
        p[1] = 0;
        put_u16(p + 2, e.mode);
        put_u64(p + 4, e.updated);
        put_u16(p + 12, static_cast<std::uint16_t>(e.name.size()));
        put_u16(p + 14, static_cast<std::uint16_t>(e.source.size()));
        put_u32(p + 16, static_cast<std::uint32_t>(e.length));
        p += kEntryFixedBytes;
        std::memcpy(p, e.name.data(), e.name.size());
        p += e.name.size();
        std::memcpy(p, e.source.data(), e.source.size());
        p += e.source.size();
        if (e.length) std::memcpy(p, e.value().data(), e.length);
        p += e.length;
    }

    return seal_plaintext(plain->bytes(), key, aad);
}

std::vector<std::uint8_t> seal_plaintext(std::span<const std::uint8_t> plain, std::span<const std::uint8_t> key,
                                         std::span<const std::uint8_t> aad) {
    std::size_t total = plain.size();
    std::size_t chunks = (total + kChunkBytes - 1) / kChunkBytes;
    std::vector<std::uint8_t> sealed(kStreamHeaderBytes + total + chunks * kStreamTagBytes);
    crypto_secretstream_xchacha20poly1305_state state;
    crypto_secretstream_xchacha20poly1305_init_push(&state, sealed.data(), key.data());
    std::uint8_t* out = sealed.data() + kStreamHeaderBytes;
    for (std::size_t done = 0; done < total;) {
        std::size_t n = std::min(kChunkBytes, total - done);
        bool last = done + n == total;
        unsigned long long written = 0;
        crypto_secretstream_xchacha20poly1305_push(
            &state, out, &written, plain.data() + done, n, aad.data(), aad.size(),
            last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
        out += written;
        done += n;
    }
    sodium_memzero(&state, sizeof state);
    return sealed;
}

Result<std::vector<Entry>> open_payload(std::span<const std::uint8_t> sealed, std::span<const std::uint8_t> key,
                                        std::span<const std::uint8_t> aad, std::uint32_t expected_count) {
    if (sealed.size() < kStreamHeaderBytes + kStreamTagBytes + 4) return damaged_payload("truncated");
    std::size_t body = sealed.size() - kStreamHeaderBytes;
    std::size_t full = kChunkBytes + kStreamTagBytes;
    std::size_t chunks = (body + full - 1) / full;
    if (body - (chunks - 1) * full <= kStreamTagBytes) return damaged_payload("truncated chunk");
    std::size_t total = body - chunks * kStreamTagBytes;
    if (total > kMaxPayloadBytes) return damaged_payload("larger than the format allows");

    auto plain_buffer = SecretBuffer::allocate(total);
    if (!plain_buffer) return std::move(plain_buffer).error();
    auto plain = std::make_shared<SecretBuffer>(std::move(*plain_buffer));

    crypto_secretstream_xchacha20poly1305_state state;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&state, sealed.data(), key.data()) != 0)
        return damaged_payload("bad stream header");
    const std::uint8_t* in = sealed.data() + kStreamHeaderBytes;
    std::size_t produced = 0;
    for (std::size_t i = 0; i < chunks; ++i) {
        std::size_t clen = i + 1 < chunks ? full : body - i * full;
        unsigned long long mlen = 0;
        unsigned char tag = 0;
        if (crypto_secretstream_xchacha20poly1305_pull(&state, plain->data() + produced, &mlen, &tag, in, clen,
                                                       aad.data(), aad.size()) != 0) {
            sodium_memzero(&state, sizeof state);
            return damaged_payload("authentication failed in chunk " + std::to_string(i));
        }
        bool last = i + 1 == chunks;
        unsigned char expected = last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                      : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
        if (tag != expected) {
            sodium_memzero(&state, sizeof state);
            return damaged_payload(last ? "truncated (no final chunk)" : "unexpected chunk tag (data after the final chunk?)");
        }
        in += clen;
        produced += mlen;
    }
    sodium_memzero(&state, sizeof state);

    ByteReader reader(plain->bytes());
    std::uint32_t count = 0;
    if (!reader.u32(count) || count != expected_count) return damaged_payload("entry count mismatch");
    std::vector<Entry> entries;
    std::set<std::string> seen;
    for (std::uint32_t i = 0; i < count; ++i) {
        std::uint8_t kind = 0, reserved = 0;
        std::uint16_t mode = 0, name_len = 0, source_len = 0;
        std::uint32_t value_len = 0;
        Entry e;
        std::span<const std::uint8_t> name, source, value;
        if (!reader.u8(kind) || !reader.u8(reserved) || !reader.u16(mode) || !reader.u64(e.updated) ||
            !reader.u16(name_len) || !reader.u16(source_len) || !reader.u32(value_len) ||
            !reader.span(name_len, name) || !reader.span(source_len, source) || !reader.span(value_len, value))
            return damaged_payload("entry " + std::to_string(i) + " is truncated");
        if (kind < 1 || kind > 4 || reserved != 0 || mode > 07777)
            return damaged_payload("entry " + std::to_string(i) + " has invalid fields");
        e.kind = static_cast<EntryKind>(kind);
        e.mode = mode;
        e.name.assign(name.begin(), name.end());
        e.source.assign(source.begin(), source.end());
        if (!validate_entry_name(e.name) || !seen.insert(e.name).second)
            return damaged_payload("entry " + std::to_string(i) + " has an invalid or duplicate name");
        e.store = plain;
        e.offset = static_cast<std::size_t>(value.data() - plain->data());
        e.length = value.size();
        entries.push_back(std::move(e));
    }
    if (reader.remaining() != 0) return damaged_payload("trailing bytes after the last entry");
    return entries;
}

}  // namespace ghostpod
