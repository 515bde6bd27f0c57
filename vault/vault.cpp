#include "vault/vault.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace ghostpod {
namespace {

constexpr char kSubkeyContext[crypto_kdf_CONTEXTBYTES + 1] = "ghostpod";
constexpr std::uint64_t kHeaderMacKeyId = 1;
constexpr std::uint64_t kPayloadKeyId = 2;

Error wrong_credential(SlotType type) {
    if (type == SlotType::recovery)
        return make_error(ErrorCode::unlock, "", "wrong recovery key or damaged file",
                          "check the recovery key printed by 'ghostpod init'");
    return make_error(ErrorCode::unlock, "", "wrong passphrase or damaged file",
                      "try again; if the passphrase is lost, unlock with --recovery-key-fd");
}

Result<SecretBuffer> derive_slot_key(const Keyslot& slot, std::span<const std::uint8_t> secret) {
    if (slot.kdf == SlotKdf::blake2b) return derive_recovery(secret, slot.salt);
    return derive_argon2id(secret, slot.salt, slot.params);
}

std::array<std::uint8_t, kHeaderMacBytes> header_mac(std::span<const std::uint8_t> body, const SecretBuffer& key) {
    std::array<std::uint8_t, kHeaderMacBytes> mac{};
    crypto_generichash(mac.data(), mac.size(), body.data(), body.size(), key.data(), key.size());
    return mac;
}

}  // namespace

Result<SecretBuffer> Vault::subkey(std::uint64_t id) const {
    auto key = SecretBuffer::allocate(kKeyBytes);
    if (!key) return key;
    crypto_kdf_derive_from_key(key->data(), key->size(), id, kSubkeyContext, dek_.data());
    return key;
}

Status Vault::add_slot(SlotType type, std::span<const std::uint8_t> secret, KdfProfile profile) {
    if (header_.slots.size() >= kMaxKeyslots) return make_error(ErrorCode::runtime, "add keyslot", "all keyslots are in use");
    Keyslot slot;
    slot.type = type;
    if (type == SlotType::recovery) {
        slot.kdf = SlotKdf::blake2b;
        slot.profile = KdfProfile::custom;
    } else {
        slot.kdf = SlotKdf::argon2id;
        slot.profile = profile;
        slot.params = params_for(profile);
    }
    randombytes_buf(slot.salt.data(), slot.salt.size());
    randombytes_buf(slot.nonce.data(), slot.nonce.size());
    auto kek = derive_slot_key(slot, secret);
    if (!kek) return std::move(kek).error();
    auto aad = keyslot_aad(header_, slot);
    crypto_aead_xchacha20poly1305_ietf_encrypt(slot.wrapped.data(), nullptr, dek_.data(), dek_.size(), aad.data(),
                                               aad.size(), nullptr, slot.nonce.data(), kek->data());
    header_.slots.push_back(slot);
    return {};
}

Result<Vault> Vault::create(std::span<const std::uint8_t> passphrase, KdfProfile profile,
                            std::span<const std::uint8_t> recovery_key, std::uint64_t now) {
    Vault vault;
    auto dek = SecretBuffer::allocate_key(kKeyBytes);
    if (!dek) return std::move(dek).error();
    vault.dek_ = std::move(*dek);
    crypto_aead_xchacha20poly1305_ietf_keygen(vault.dek_.data());
    randombytes_buf(vault.header_.vault_id.data(), vault.header_.vault_id.size());
    vault.header_.created = vault.header_.updated = now;
    GP_TRY(vault.add_slot(SlotType::passphrase, passphrase, profile));
    GP_TRY(vault.add_slot(SlotType::recovery, recovery_key, KdfProfile::custom));
    vault.entries_changed_ = true;
    return vault;
}

Result<Vault> Vault::open(std::span<const std::uint8_t> file, const Credential& credential) {
    auto header = parse_header(file);
    if (!header) return std::move(header).error();
    Vault vault;
    vault.header_ = std::move(*header);
    auto dek = SecretBuffer::allocate_key(kKeyBytes);
    if (!dek) return std::move(dek).error();
    vault.dek_ = std::move(*dek);

    bool unwrapped = false;
    for (const auto& slot : vault.header_.slots) {
        if (slot.type != credential.type) continue;
        auto kek = derive_slot_key(slot, credential.secret);
        if (!kek) return std::move(kek).error();
        auto aad = keyslot_aad(vault.header_, slot);
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(vault.dek_.data(), nullptr, nullptr, slot.wrapped.data(),
                                                       slot.wrapped.size(), aad.data(), aad.size(), slot.nonce.data(),
                                                       kek->data()) == 0) {
            unwrapped = true;
            break;
        }
    }
    if (!unwrapped) return wrong_credential(credential.type);

    GP_TRY(vault.read_sealed(file));
    return vault;
}

Result<Vault> Vault::open_with_data_key(std::span<const std::uint8_t> file, std::span<const std::uint8_t> data_key) {
    auto header = parse_header(file);
    if (!header) return std::move(header).error();
    if (data_key.size() != kKeyBytes) return make_error(ErrorCode::unlock, "", "the data key has the wrong length");
    Vault vault;
    vault.header_ = std::move(*header);
    auto dek = SecretBuffer::allocate_key(kKeyBytes);
    if (!dek) return std::move(dek).error();
    vault.dek_ = std::move(*dek);
    std::memcpy(vault.dek_.data(), data_key.data(), kKeyBytes);
    GP_TRY(vault.read_sealed(file));
    return vault;
}

Result<SecretBuffer> Vault::copy_data_key() const {
    auto key = SecretBuffer::allocate_key(kKeyBytes);
    if (!key) return key;
    std::memcpy(key->data(), dek_.data(), kKeyBytes);
    return key;
}

// Checks the header MAC and decrypts the payload with the data key already in dek_.
Status Vault::read_sealed(std::span<const std::uint8_t> file) {
    auto mac_key = subkey(kHeaderMacKeyId);
    if (!mac_key) return std::move(mac_key).error();
    std::size_t body_len = header_.length() - kHeaderMacBytes;
    auto expected = header_mac(file.subspan(0, body_len), *mac_key);
    if (sodium_memcmp(expected.data(), header_.mac.data(), kHeaderMacBytes) != 0)
        return make_error(ErrorCode::unlock, "", "damaged header: authentication failed",
                          "restore the previous generation (the .bak file next to the vault) or a backup");

    auto payload_key = subkey(kPayloadKeyId);
    if (!payload_key) return std::move(payload_key).error();
    auto sealed = file.subspan(header_.length());
    auto entries = open_payload(sealed, payload_key->bytes(), payload_aad(header_), header_.entry_count);
    if (!entries) return std::move(entries).error();
    entries_ = std::move(*entries);
    sealed_payload_.assign(sealed.begin(), sealed.end());
    return {};
}

Result<std::vector<std::uint8_t>> Vault::serialise(std::uint64_t now) {
    header_.updated = std::max(now, header_.created);
    if (entries_changed_) {
        header_.generation += 1;
        header_.entry_count = static_cast<std::uint32_t>(entries_.size());
        auto payload_key = subkey(kPayloadKeyId);
        if (!payload_key) return std::move(payload_key).error();
        auto sealed = seal_payload(entries_, payload_key->bytes(), payload_aad(header_));
        if (!sealed) {
            header_.generation -= 1;
            return std::move(sealed).error();
        }
        sealed_payload_ = std::move(*sealed);
        entries_changed_ = false;
    }
    auto mac_key = subkey(kHeaderMacKeyId);
    if (!mac_key) return std::move(mac_key).error();
    std::vector<std::uint8_t> file = encode_header_body(header_);
    header_.mac = header_mac(file, *mac_key);
    file.insert(file.end(), header_.mac.begin(), header_.mac.end());
    file.insert(file.end(), sealed_payload_.begin(), sealed_payload_.end());
    return file;
}

const Entry* Vault::find(std::string_view name) const {
    for (const auto& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

Status Vault::put(Entry entry, std::span<const std::uint8_t> value) {
    GP_TRY(validate_entry_name(entry.name));
    if (value.size() > kMaxValueBytes)
        return make_error(ErrorCode::usage, "store '" + entry.name + "'",
                          "the value is larger than " + std::to_string(kMaxValueBytes >> 20) + " MiB");
    if (entry.source.size() > kMaxSourceBytes) entry.source.resize(kMaxSourceBytes);
    if (!put_arena_) {
        auto arena = SecretBuffer::allocate(0);
        if (!arena) return std::move(arena).error();
        put_arena_ = std::make_shared<SecretBuffer>(std::move(*arena));
    }
    entry.offset = put_arena_->size();
    GP_TRY(put_arena_->append(value));
    entry.store = put_arena_;
    entry.length = value.size();
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == entry.name; });
    if (it != entries_.end()) {
        *it = std::move(entry);
    } else {
        entries_.push_back(std::move(entry));
    }
    entries_changed_ = true;
    return {};
}

bool Vault::remove(std::string_view name) {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
    if (it == entries_.end()) return false;
    entries_.erase(it);
    entries_changed_ = true;
    return true;
}

Status Vault::set_passphrase(std::span<const std::uint8_t> passphrase, KdfProfile profile) {
    std::vector<Keyslot> kept;
    for (const auto& slot : header_.slots)
        if (slot.type != SlotType::passphrase) kept.push_back(slot);
    auto previous = header_.slots;
    header_.slots = std::move(kept);
    auto added = add_slot(SlotType::passphrase, passphrase, profile);
    if (!added) header_.slots = std::move(previous);
    return added;
}

}  // namespace ghostpod
