// Vault: an unlocked vault in memory — the data key, the header and the entries — and the
// operations on it. Reading and writing the file itself is vault/store.hpp's job.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vault/format.hpp"
#include "vault/payload.hpp"
#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

struct Credential {
    SlotType type = SlotType::passphrase;
    std::span<const std::uint8_t> secret;  // passphrase bytes or the 32-byte recovery key
};

class Vault {
public:
    // A new, empty vault: random data key, a passphrase keyslot and a recovery keyslot.
    static Result<Vault> create(std::span<const std::uint8_t> passphrase, KdfProfile profile,
                                std::span<const std::uint8_t> recovery_key, std::uint64_t now);
    // Unlocks file bytes. ErrorCode::unlock for a wrong credential or any damage.
    static Result<Vault> open(std::span<const std::uint8_t> file, const Credential& credential);
    // Reopens file bytes with a data key kept from an earlier open (a session's holder saving
    // its pull cache): the header MAC and the payload are still checked.
    static Result<Vault> open_with_data_key(std::span<const std::uint8_t> file, std::span<const std::uint8_t> data_key);
    Result<SecretBuffer> copy_data_key() const;

    // The file bytes to write. Re-seals the payload only when entries changed (bumping the
    // generation); otherwise the previous ciphertext is reused byte for byte.
    Result<std::vector<std::uint8_t>> serialise(std::uint64_t now);

    const Header& header() const { return header_; }
    const std::vector<Entry>& entries() const { return entries_; }
    const Entry* find(std::string_view name) const;
    // Adds or replaces an entry; the value is copied into fresh secret memory.
    Status put(Entry entry, std::span<const std::uint8_t> value);
    bool remove(std::string_view name);
    // Replaces every passphrase keyslot with one for `passphrase`. The data key and the
    // payload stay as they are (no data re-encryption).
    Status set_passphrase(std::span<const std::uint8_t> passphrase, KdfProfile profile);
    bool data_key_in_secretmem() const { return dek_.backing() == SecretBuffer::Backing::secretmem; }

private:
    Vault() = default;
    Status add_slot(SlotType type, std::span<const std::uint8_t> secret, KdfProfile profile);
    Result<SecretBuffer> subkey(std::uint64_t id) const;
    Status read_sealed(std::span<const std::uint8_t> file);

    SecretBuffer dek_;
    Header header_;
    std::vector<Entry> entries_;
    std::vector<std::uint8_t> sealed_payload_;  // ciphertext as read, reused while unchanged
    // Values added by put() share one growing secret region: a region per value would cost
    // four memory mappings each and exhaust vm.max_map_count near 16,000 entries.
    std::shared_ptr<SecretBuffer> put_arena_;
    bool entries_changed_ = false;
};

}  // namespace ghostpod
