// Reading a TazPod vault (vault.tar.aes) entirely in secret memory, never on disk.
//
//   bytes 0-31    PBKDF2 salt
//   bytes 32-43   AES-GCM nonce
//   bytes 44-     AES-256-GCM ciphertext, then its 16-byte tag (no associated data)
//   key           PBKDF2-HMAC-SHA256(passphrase, salt, 100000 iterations, 32 bytes)
//   plaintext     gzip of a tar (ustar, GNU long names, pax) of TazPod's RAM folder
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

inline constexpr std::size_t kTazpodSaltBytes = 32;
inline constexpr std::size_t kTazpodNonceBytes = 12;
inline constexpr std::size_t kTazpodTagBytes = 16;
inline constexpr int kTazpodPbkdf2Iterations = 100000;
inline constexpr std::size_t kMaxTarEntries = 100000;
inline constexpr std::size_t kMaxTarNameBytes = 4096;        // a GNU long name or a pax path
inline constexpr std::size_t kMaxPaxHeaderBytes = 1u << 20;  // one pax extended header
// TazPod keeps its own plaintext copy of the passphrase here; it is never imported.
inline constexpr const char* kTazpodPassFile = ".vault_pass";

// A regular file in the tar: its bytes are [offset, offset + length) of the tar buffer.
struct TarFile {
    std::string name;  // path inside the archive, a leading "./" removed
    std::uint16_t mode = 0;
    std::size_t offset = 0;
    std::size_t length = 0;
};

// An entry that cannot become a vault entry: absolute, "..", a link, a device, a bad name.
struct TarRefusal {
    std::string name;
    std::string why;
};

struct TarListing {
    std::vector<TarFile> files;          // in archive order, a name stored twice listed twice (the last counts)
    std::vector<TarRefusal> refused;
    bool had_pass_file = false;          // .vault_pass was present (and left out)
};

// The decrypted gzip bytes. ErrorCode::unlock for a wrong passphrase or any damage.
Result<SecretBuffer> decrypt_tazpod(std::span<const std::uint8_t> archive, std::span<const std::uint8_t> passphrase);
// Inflates a gzip stream into secret memory, refusing more than `max_bytes` of output.
Result<SecretBuffer> gunzip_secret(std::span<const std::uint8_t> gzip, std::size_t max_bytes);
// Lists a tar held in memory; file bytes stay where they are. Errors for a malformed archive.
Result<TarListing> read_tar(std::span<const std::uint8_t> tar);

// The three steps together: the tar in secret memory and what it holds.
struct TazpodContents {
    SecretBuffer tar;
    TarListing listing;
};
Result<TazpodContents> open_tazpod(std::span<const std::uint8_t> archive, std::span<const std::uint8_t> passphrase);

// The vault mode for a tar mode: owner bits only, at least owner-read.
std::uint16_t tazpod_entry_mode(std::uint32_t tar_mode);

}  // namespace ghostpod
