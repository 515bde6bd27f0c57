#include "vault/kdf.hpp"

#include <argon2.h>
#include <sodium.h>
#include <sys/mman.h>

#include <cerrno>

namespace ghostpod {
namespace {

// Argon2's working memory is a function of the passphrase: keep it out of core dumps, out of
// any child forked meanwhile (see secret_buffer.hpp) and, where RLIMIT_MEMLOCK allows, out of
// swap. libargon2 wipes it before calling the free hook.
int allocate_work_memory(std::uint8_t** memory, std::size_t bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return ARGON2_MEMORY_ALLOCATION_ERROR;
    ::madvise(p, bytes, MADV_DONTDUMP);
    ::madvise(p, bytes, MADV_WIPEONFORK);
    (void)::mlock(p, bytes);  // best effort: unprivileged limits are often 8 MiB
    *memory = static_cast<std::uint8_t*>(p);
    return ARGON2_OK;
}

void free_work_memory(std::uint8_t* memory, std::size_t bytes) { ::munmap(memory, bytes); }

}  // namespace

Argon2Params params_for(KdfProfile profile) {
    switch (profile) {
        case KdfProfile::interactive: return kInteractive;
        case KdfProfile::sensitive: return kSensitive;
        default: return kModerate;
    }
}

std::optional<KdfProfile> parse_profile(std::string_view name) {
    if (name == "interactive") return KdfProfile::interactive;
    if (name == "moderate") return KdfProfile::moderate;
    if (name == "sensitive") return KdfProfile::sensitive;
    return std::nullopt;
}

const char* profile_name(KdfProfile profile) {
    switch (profile) {
        case KdfProfile::interactive: return "interactive";
        case KdfProfile::moderate: return "moderate";
        case KdfProfile::sensitive: return "sensitive";
        default: return "custom";
    }
}

bool params_in_bounds(const Argon2Params& p) {
    return p.t_cost >= kMinTCost && p.t_cost <= kMaxTCost && p.m_cost_kib >= kMinMCostKib &&
           p.m_cost_kib <= kMaxMCostKib && p.parallelism >= kMinParallelism &&
           p.parallelism <= kMaxParallelism && p.m_cost_kib >= 8 * p.parallelism;
}

Result<SecretBuffer> derive_argon2id(std::span<const std::uint8_t> passphrase,
                                     std::span<const std::uint8_t> salt, const Argon2Params& params) {
    if (!params_in_bounds(params))
        return make_error(ErrorCode::unlock, "derive key", "KDF parameters out of bounds");
    auto key = SecretBuffer::allocate(kKeyBytes);
    if (!key) return key;
    argon2_context ctx{};
    ctx.out = key->data();
    ctx.outlen = static_cast<std::uint32_t>(key->size());
    // libargon2 takes non-const pointers but only reads pwd and salt.
    ctx.pwd = const_cast<std::uint8_t*>(passphrase.data());
    ctx.pwdlen = static_cast<std::uint32_t>(passphrase.size());
    ctx.salt = const_cast<std::uint8_t*>(salt.data());
    ctx.saltlen = static_cast<std::uint32_t>(salt.size());
    ctx.t_cost = params.t_cost;
    ctx.m_cost = params.m_cost_kib;
    ctx.lanes = params.parallelism;
    ctx.threads = params.parallelism;
    ctx.version = ARGON2_VERSION_13;
    ctx.allocate_cbk = allocate_work_memory;
    ctx.free_cbk = free_work_memory;
    ctx.flags = ARGON2_DEFAULT_FLAGS;
    int rc = argon2_ctx(&ctx, Argon2_id);
    if (rc != ARGON2_OK) {
        ErrorCode code = rc == ARGON2_MEMORY_ALLOCATION_ERROR ? ErrorCode::runtime : ErrorCode::unlock;
        return make_error(code, "derive key with Argon2id", argon2_error_message(rc),
                          rc == ARGON2_MEMORY_ALLOCATION_ERROR ? "free memory, or use a lighter --kdf profile" : "");
    }
    return key;
}

Result<SecretBuffer> derive_recovery(std::span<const std::uint8_t> recovery_key,
                                     std::span<const std::uint8_t> salt) {
    static constexpr char kLabel[] = "ghostpod recovery keyslot v1";
    auto key = SecretBuffer::allocate(kKeyBytes);
    if (!key) return key;
    crypto_generichash_state state;
    crypto_generichash_init(&state, recovery_key.data(), recovery_key.size(), kKeyBytes);
    crypto_generichash_update(&state, reinterpret_cast<const std::uint8_t*>(kLabel), sizeof kLabel - 1);
    crypto_generichash_update(&state, salt.data(), salt.size());
    crypto_generichash_final(&state, key->data(), kKeyBytes);
    sodium_memzero(&state, sizeof state);
    return key;
}

}  // namespace ghostpod
