// The user's record of per-directory files they have allowed (direnv's model), kept outside any
// repository in $XDG_STATE_HOME/ghostpod/allowed/ (default ~/.local/state/ghostpod/allowed/):
// one small JSON file per allowed path, named by the SHA-256 of that path, 0600 in a 0700
// directory, each replaced atomically (temp file, fsync, rename, fsync of the directory), so
// two 'allow' at once never lose each other's record and a crash leaves the old or the new one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vault/result.hpp"

namespace ghostpod {

enum class TrustedKind {
    config,          // a .ghostpod/config.json: allowed with the SHA-256 of its content
    infisical_json,  // a .infisical.json: allowed with the SHA-256 of its content
    vault_link,      // a .ghostpod/vault that is a link or lies outside its project: allowed with
                     // where it leads (a vault changes with every save: its content is not hashed)
};
const char* trusted_kind_name(TrustedKind kind);  // "config", "infisical.json", "vault link"

struct TrustRecord {
    TrustedKind kind = TrustedKind::config;
    std::string path;    // config, .infisical.json: the file's real path; vault link: where it was found
    std::string sha256;  // config, .infisical.json: hex SHA-256 of the content allowed
    std::string target;  // vault link: the real path it resolved to when allowed
    std::uint64_t allowed_at = 0;
};

// $XDG_STATE_HOME/ghostpod/allowed (XDG_STATE_HOME unset, empty or relative: ~/.local/state).
std::string trust_store_dir();
std::string sha256_hex(std::span<const std::uint8_t> bytes);

// The record for `path`, or nullopt. A store that is not private to the user (another owner,
// group- or world-writable) is an error rather than trusted.
Result<std::optional<TrustRecord>> find_trust_record(const std::string& path);
Status save_trust_record(const TrustRecord& record);
// Whether a record for `path` existed.
Result<bool> remove_trust_record(const std::string& path);
Result<std::vector<TrustRecord>> list_trust_records();

}  // namespace ghostpod
