#include "pod/infisical/pull_cache.hpp"

#include <sodium.h>

#include <algorithm>

#include "vault/bytes.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

constexpr std::uint8_t kMagic[4] = {'G', 'P', 'P', 'C'};
constexpr std::uint8_t kVersion = 1;

Status put_field(SecretBuffer& out, std::span<const std::uint8_t> bytes, int width) {
    std::uint8_t len[4];
    if (width == 2) {
        if (bytes.size() > 0xffff) return make_error(ErrorCode::runtime, "encode the pull cache", "a field is too long");
        put_u16(len, static_cast<std::uint16_t>(bytes.size()));
    } else {
        put_u32(len, static_cast<std::uint32_t>(bytes.size()));
    }
    GP_TRY(out.append({len, static_cast<std::size_t>(width)}));
    return out.append(bytes);
}

bool get_string(ByteReader& r, std::string& out) {
    std::uint16_t n = 0;
    std::span<const std::uint8_t> s;
    if (!r.u16(n) || !r.span(n, s)) return false;
    out.assign(s.begin(), s.end());
    return true;
}

}  // namespace

std::string joined_paths(const std::vector<std::string>& paths) {
    std::string out;
    for (const auto& p : paths) out += (out.empty() ? "" : ",") + p;
    return out;
}

Result<SecretBuffer> encode_pull_cache(const PullSettings& s, const PulledSecrets& pulled, std::uint64_t now) {
    auto out = SecretBuffer::allocate(0);
    if (!out) return out;
    GP_TRY(out->append(kMagic));
    GP_TRY(out->push_back(kVersion));
    std::uint8_t word[8];
    put_u64(word, now);
    GP_TRY(out->append(word));
    for (const std::string& field : {s.target.base_url, s.target.project_id, s.target.environment, joined_paths(s.target.paths)})
        GP_TRY(put_field(*out, text_bytes(field), 2));
    put_u32(word, static_cast<std::uint32_t>(pulled.secrets.size()));
    GP_TRY(out->append({word, 4}));
    for (const auto& secret : pulled.secrets) {
        GP_TRY(put_field(*out, text_bytes(secret.key), 2));
        GP_TRY(put_field(*out, text_bytes(pulled.folder(secret)), 2));
        GP_TRY(put_field(*out, pulled.value(secret), 4));
    }
    return out;
}

Result<CachedPull> decode_pull_cache(std::span<const std::uint8_t> bytes) {
    auto damaged = [] {
        return make_error(ErrorCode::runtime, "read the offline cache", "it is damaged or from another version",
                          "run 'ghostpod pull' online once to replace it");
    };
    ByteReader r(bytes);
    std::span<const std::uint8_t> magic;
    std::uint8_t version = 0;
    CachedPull cache;
    if (!r.span(4, magic) || !std::equal(magic.begin(), magic.end(), kMagic) || !r.u8(version) || version != kVersion ||
        !r.u64(cache.fetched_at))
        return damaged();
    for (std::string* field : {&cache.base_url, &cache.project_id, &cache.environment, &cache.paths})
        if (!get_string(r, *field)) return damaged();
    std::uint32_t count = 0;
    if (!r.u32(count)) return damaged();
    for (std::uint32_t i = 0; i < count; ++i) {
        PulledSecret s;
        std::uint32_t len = 0;
        std::span<const std::uint8_t> value;
        std::string folder;
        if (!get_string(r, s.key) || !get_string(r, folder) || !r.u32(len) || !r.span(len, value)) return damaged();
        s.folder = cache.pulled.folder_index(folder);
        GP_TRY(cache.pulled.add_value(value, s.chunk, s.offset));
        s.length = len;
        cache.pulled.secrets.push_back(std::move(s));
    }
    if (r.remaining() != 0) return damaged();
    return cache;
}

bool same_pull_cache(std::span<const std::uint8_t> stored, std::span<const std::uint8_t> fresh, std::uint64_t& stored_at) {
    constexpr std::size_t kTimeEnd = sizeof kMagic + 1 + 8;  // magic, version, u64 time
    if (stored.size() != fresh.size() || stored.size() < kTimeEnd) return false;
    if (!std::equal(stored.begin(), stored.begin() + sizeof kMagic + 1, fresh.begin())) return false;
    if (sodium_memcmp(stored.data() + kTimeEnd, fresh.data() + kTimeEnd, stored.size() - kTimeEnd) != 0) return false;
    stored_at = get_u64(stored.data() + sizeof kMagic + 1);
    return true;
}

bool cache_matches(const CachedPull& c, const PullSettings& s) {
    return c.base_url == s.target.base_url && c.project_id == s.target.project_id && c.environment == s.target.environment &&
           c.paths == joined_paths(s.target.paths);
}

}  // namespace ghostpod
