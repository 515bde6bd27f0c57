// The vault file on disk: the writer lock, reading, and crash-safe replacement that keeps the
// previous generation as <vault>.bak.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

inline constexpr std::size_t kMaxVaultFileBytes = 600u << 20;

// An exclusive advisory lock (flock) on <vault>.lock, held for a whole read-modify-write so
// that two writers never lose each other's update. Released when destroyed or on process death.
class VaultLock {
public:
    static Result<VaultLock> acquire(const std::string& vault_path);

private:
    explicit VaultLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

// Follows a symlink at `path` so writes replace the file it points to, not the link.
std::string resolve_vault_path(const std::string& path);
std::string backup_path(const std::string& vault_path);
bool file_exists(const std::string& path);

Result<std::vector<std::uint8_t>> read_vault_file(const std::string& path);

// Temp file in the same directory, fsync, previous generation hard-linked to <vault>.bak,
// rename over the vault, fsync of the directory. At any instant the path holds the old or the
// new bytes; on any error the old vault is untouched and the temp file removed.
Status replace_vault_file(const std::string& path, std::span<const std::uint8_t> bytes);

// Makes <vault>.bak the current file too. After a passphrase change the previous generation
// still wraps the same data key under the old passphrase; it must not linger next to the vault.
Status replace_backup_with_current(const std::string& path);

}  // namespace ghostpod
