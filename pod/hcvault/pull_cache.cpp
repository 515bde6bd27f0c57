#include "pod/hcvault/pull_cache.hpp"

#include <algorithm>

#include "vault/bytes.hpp"
#include "vault/payload.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

constexpr std::uint8_t kMagic[4] = {'G', 'P', 'V', 'C'};
constexpr std::uint8_t kVersion = 1;

Status put_short(SecretBuffer& out, std::span<const std::uint8_t> bytes) {
    if (bytes.size() > 0xffff) return make_error(ErrorCode::runtime, "encode the Vault offline cache", "a name is too long");
    std::uint8_t len[2];
    put_u16(len, static_cast<std::uint16_t>(bytes.size()));
    GP_TRY(out.append(len));
    return out.append(bytes);
}

bool get_short(ByteReader& r, std::string& out) {
    std::uint16_t n = 0;
    std::span<const std::uint8_t> s;
    if (!r.u16(n) || !r.span(n, s)) return false;
    out.assign(s.begin(), s.end());
    return true;
}

}  // namespace

Result<SecretBuffer> encode_vault_cache(const VaultPullSettings& s, const KvPulled& pulled, std::uint64_t now) {
    auto out = SecretBuffer::allocate(0);
    if (!out) return out;
    GP_TRY(out->append(kMagic));
    GP_TRY(out->push_back(kVersion));
    std::uint8_t word[8];
    put_u64(word, now);
    GP_TRY(out->append(word));
    for (const std::string& field : {s.target.address, s.name_space, joined_kv_paths(s.kv)}) GP_TRY(put_short(*out, text_bytes(field)));
    put_u32(word, static_cast<std::uint32_t>(pulled.secrets.size()));
    GP_TRY(out->append({word, 4}));
    for (const auto& secret : pulled.secrets) {
        for (const std::string* field : {&secret.mount, &secret.path, &secret.key}) GP_TRY(put_short(*out, text_bytes(*field)));
        auto value = pulled.value(secret);
        put_u32(word, static_cast<std::uint32_t>(value.size()));
        GP_TRY(out->append({word, 4}));
        GP_TRY(out->append(value));
    }
    return out;
}

Result<CachedVaultPull> decode_vault_cache(std::span<const std::uint8_t> bytes) {
    auto damaged = [] {
        return make_error(ErrorCode::runtime, "read the Vault offline cache", "it is damaged or from another version",
                          "run 'ghostpod pull' online once to replace it");
    };
    ByteReader r(bytes);
    std::span<const std::uint8_t> magic;
    std::uint8_t version = 0;
    CachedVaultPull cache;
    if (!r.span(4, magic) || !std::equal(magic.begin(), magic.end(), kMagic) || !r.u8(version) || version != kVersion ||
        !r.u64(cache.fetched_at))
        return damaged();
    for (std::string* field : {&cache.address, &cache.name_space, &cache.kv})
        if (!get_short(r, *field)) return damaged();
    std::uint32_t count = 0;
    if (!r.u32(count)) return damaged();
    auto values = SecretBuffer::allocate(0);
    if (!values) return std::move(values).error();
    cache.pulled.values = std::move(*values);
    for (std::uint32_t i = 0; i < count; ++i) {
        KvSecret s;
        std::uint32_t len = 0;
        std::span<const std::uint8_t> value;
        if (!get_short(r, s.mount) || !get_short(r, s.path) || !get_short(r, s.key) || !r.u32(len) || !r.span(len, value))
            return damaged();
        if (!validate_entry_name(s.ghost_name())) return damaged();
        s.offset = cache.pulled.values.size();
        s.length = len;
        GP_TRY(cache.pulled.values.append(value));
        cache.pulled.secrets.push_back(std::move(s));
    }
    if (r.remaining() != 0) return damaged();
    return cache;
}

bool vault_cache_matches(const CachedVaultPull& c, const VaultPullSettings& s) {
    return c.address == s.target.address && c.name_space == s.name_space && c.kv == joined_kv_paths(s.kv);
}

}  // namespace ghostpod
