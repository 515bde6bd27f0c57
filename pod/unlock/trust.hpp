// Which per-directory files ghostpod uses only once the user has allowed them, and the check.
// Trusted as given: --config, --vault, GHOSTPOD_CONFIG, GHOSTPOD_VAULT and the user's own files.
// Found by the upward search (a cloned repository's), so allowed first: .ghostpod/config.json and
// .infisical.json (by real path and SHA-256 of the content: a change means "not allowed" again),
// and a .ghostpod/vault that is a link or lies outside its project (by where it leads). A refusal
// is ErrorCode::untrusted (exit 8), before anything is unlocked, read from the terminal or sent.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pod/unlock/config.hpp"
#include "pod/unlock/locate.hpp"
#include "pod/unlock/trust_store.hpp"

namespace ghostpod {

enum class TrustState { as_given, allowed, unknown, changed };
const char* trust_state_name(TrustState state);  // "trusted as given", "allowed", "not allowed", "changed since allowed"

// Reads the config at `where` once; a config found by the search must be allowed for exactly
// the bytes read, which are the bytes parsed.
Result<Config> load_trusted_config(const Located& where);
// Refuses a vault found by the search that is a link or resolves outside its project, unless allowed.
Status check_vault_trust(const Located& where);

// For 'status': the state of the located config / vault, without failing.
TrustState config_trust_state(const Located& where);
TrustState vault_trust_state(const Located& where);

// A per-directory file's state for these bytes (`real_path`: its realpath).
Result<TrustState> file_trust_state(TrustedKind kind, const std::string& real_path, std::span<const std::uint8_t> bytes);
// The refusal for a file that is not allowed: names it, says what it would change, gives the hint.
Error not_allowed(TrustedKind kind, const std::string& shown_path, const std::string& key_path, TrustState state,
                  const std::string& effect);

// One line on what a config does: where it pulls from, its mappings, its session lifetimes.
std::string describe_config(const Config& config);

// What 'allow [PATH]' and 'deny PATH' act on: PATH itself (a config, a .infisical.json or a
// .ghostpod/vault), each of those in PATH when it is a directory, or with no PATH those the
// search from the working directory finds.
struct TrustCandidate {
    TrustRecord record;     // what 'allow' would store
    std::string shown;      // the path as the user may know it
    std::string effect;     // what the file would do, after "it would " (for the messages)
    bool needed = true;     // false: a vault inside its project, used as it is
    std::optional<Error> unusable;  // a config or .infisical.json that cannot be read as one
};
Result<std::vector<TrustCandidate>> trust_candidates(const std::optional<std::string>& path, std::uint64_t now);
// For 'allow --list': "allowed", "changed" (content or link target) or "missing".
const char* record_state(const TrustRecord& record);

}  // namespace ghostpod
