#include "vault/format.hpp"

#include <algorithm>
#include <cstring>

#include "vault/bytes.hpp"

namespace ghostpod {
namespace {

Error damaged(std::string why) {
    return make_error(ErrorCode::unlock, "", std::move(why),
                      "restore the previous generation (the .bak file next to the vault) or a backup");
}

void encode_keyslot(const Keyslot& slot, std::uint8_t* p) {
    std::memset(p, 0, kKeyslotBytes);
    p[0] = static_cast<std::uint8_t>(slot.type);
    p[1] = static_cast<std::uint8_t>(slot.kdf);
    p[2] = static_cast<std::uint8_t>(slot.profile);
    put_u32(p + 4, slot.params.t_cost);
    put_u32(p + 8, slot.params.m_cost_kib);
    put_u32(p + 12, slot.params.parallelism);
    std::memcpy(p + 16, slot.salt.data(), kSaltBytes);
    std::memcpy(p + 32, slot.nonce.data(), kWrapNonceBytes);
    std::memcpy(p + 56, slot.wrapped.data(), kWrappedKeyBytes);
}

Result<Keyslot> decode_keyslot(const std::uint8_t* p, std::size_t index) {
    std::string where = "keyslot " + std::to_string(index) + ": ";
    Keyslot slot;
    if (p[0] != 1 && p[0] != 2) return damaged(where + "unknown type " + std::to_string(p[0]));
    slot.type = static_cast<SlotType>(p[0]);
    if (p[1] != 1 && p[1] != 2) return damaged(where + "unknown KDF " + std::to_string(p[1]));
    slot.kdf = static_cast<SlotKdf>(p[1]);
    if (p[2] > 3) return damaged(where + "unknown KDF profile " + std::to_string(p[2]));
    slot.profile = static_cast<KdfProfile>(p[2]);
    if (p[3] != 0) return damaged(where + "reserved byte is not zero");
    slot.params = {get_u32(p + 4), get_u32(p + 8), get_u32(p + 12)};
    // Passphrases need a memory-hard KDF; recovery keys are full-entropy and use BLAKE2b only.
    if (slot.type == SlotType::passphrase) {
        if (slot.kdf != SlotKdf::argon2id) return damaged(where + "passphrase slot without Argon2id");
        if (!params_in_bounds(slot.params)) return damaged(where + "Argon2id parameters out of bounds");
    } else {
        if (slot.kdf != SlotKdf::blake2b) return damaged(where + "recovery slot with the wrong KDF");
        if (slot.params.t_cost || slot.params.m_cost_kib || slot.params.parallelism || slot.profile != KdfProfile::custom)
            return damaged(where + "recovery slot with KDF parameters");
    }
    std::memcpy(slot.salt.data(), p + 16, kSaltBytes);
    std::memcpy(slot.nonce.data(), p + 32, kWrapNonceBytes);
    std::memcpy(slot.wrapped.data(), p + 56, kWrappedKeyBytes);
    return slot;
}

// magic || version || vault id: the prefix of every piece of additional data.
std::vector<std::uint8_t> vault_binding(const Header& header) {
    std::vector<std::uint8_t> out(kMagic.begin(), kMagic.end());
    out.push_back(static_cast<std::uint8_t>(header.version));
    out.push_back(static_cast<std::uint8_t>(header.version >> 8));
    out.insert(out.end(), header.vault_id.begin(), header.vault_id.end());
    return out;
}

}  // namespace

Result<Header> parse_header(std::span<const std::uint8_t> file) {
    if (file.empty()) return damaged("the file is empty");
    if (file.size() < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), file.begin()))
        return make_error(ErrorCode::unlock, "", "not a ghostpod vault (wrong magic bytes)",
                          "check the path given with --vault or GHOSTPOD_VAULT");
    if (file.size() < kFixedHeaderBytes) return damaged("truncated inside the header");
    const std::uint8_t* p = file.data();
    Header header;
    header.version = get_u16(p + 8);
    if (header.version != kFormatVersion)
        return make_error(ErrorCode::unlock, "", "format version " + std::to_string(header.version) + " is not supported (this ghostpod reads version " + std::to_string(kFormatVersion) + ")",
                          "a newer ghostpod may read it; or the file is damaged");
    std::size_t declared = get_u16(p + 10);
    std::size_t slot_count = p[12];
    if (slot_count == 0 || slot_count > kMaxKeyslots) return damaged("keyslot count " + std::to_string(slot_count) + " is invalid");
    if (p[13] || p[14] || p[15] || get_u32(p + 60)) return damaged("reserved header bytes are not zero");
    if (declared != kFixedHeaderBytes + slot_count * kKeyslotBytes + kHeaderMacBytes)
        return damaged("header length does not match the keyslot count");
    if (file.size() < declared) return damaged("truncated inside the header");
    std::memcpy(header.vault_id.data(), p + 16, kVaultIdBytes);
    header.created = get_u64(p + 32);
    header.updated = get_u64(p + 40);
    header.generation = get_u64(p + 48);
    header.entry_count = get_u32(p + 56);
    for (std::size_t i = 0; i < slot_count; ++i) {
        auto slot = decode_keyslot(p + kFixedHeaderBytes + i * kKeyslotBytes, i);
        if (!slot) return std::move(slot).error();
        header.slots.push_back(*slot);
    }
    std::memcpy(header.mac.data(), p + declared - kHeaderMacBytes, kHeaderMacBytes);
    return header;
}

std::vector<std::uint8_t> encode_header_body(const Header& header) {
    std::vector<std::uint8_t> out(kFixedHeaderBytes + header.slots.size() * kKeyslotBytes, 0);
    std::uint8_t* p = out.data();
    std::memcpy(p, kMagic.data(), kMagic.size());
    put_u16(p + 8, header.version);
    put_u16(p + 10, static_cast<std::uint16_t>(header.length()));
    p[12] = static_cast<std::uint8_t>(header.slots.size());
    std::memcpy(p + 16, header.vault_id.data(), kVaultIdBytes);
    put_u64(p + 32, header.created);
    put_u64(p + 40, header.updated);
    put_u64(p + 48, header.generation);
    put_u32(p + 56, header.entry_count);
    for (std::size_t i = 0; i < header.slots.size(); ++i)
        encode_keyslot(header.slots[i], p + kFixedHeaderBytes + i * kKeyslotBytes);
    return out;
}

std::vector<std::uint8_t> keyslot_aad(const Header& header, const Keyslot& slot) {
    std::vector<std::uint8_t> aad = vault_binding(header);
    std::uint8_t encoded[kKeyslotBytes];
    encode_keyslot(slot, encoded);
    aad.insert(aad.end(), encoded, encoded + kSlotParamBytes);
    return aad;
}

std::vector<std::uint8_t> payload_aad(const Header& header) {
    std::vector<std::uint8_t> aad = vault_binding(header);
    std::uint8_t generation[8];
    put_u64(generation, header.generation);
    aad.insert(aad.end(), generation, generation + 8);
    return aad;
}

}  // namespace ghostpod
