// What 'pull' needs to know, resolved once in the command from (highest first) its options,
// INFISICAL_* variables, the ghostpod config, .infisical.json and defaults (and VAULT_*
// variables and the config's "vault" section for a Vault source: pod/hcvault/settings.hpp);
// then handed to the session's holder as JSON. Holds no secret.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "pod/unlock/config.hpp"
#include "pod/net/http.hpp"
#include "pod/infisical/client.hpp"
#include "pod/hcvault/settings.hpp"

namespace ghostpod {

inline constexpr const char* kDefaultInfisicalHost = "https://app.infisical.com";
// Where pulled keys appear: $GHOSTPOD_DIR/infisical/<KEY>.
inline constexpr const char* kPulledPrefix = "infisical/";

struct PullSettings {
    // Infisical is a source when its section, .infisical.json or INFISICAL_* name a project, or
    // when nothing names a Vault source either; the members below up to `home` are its.
    bool infisical = true;
    std::optional<VaultPullSettings> vault;  // the config's "vault" section, resolved
    InfisicalTarget target;
    HttpSettings http;
    std::map<std::string, SecretMapping> mappings;  // the config's infisical.secrets
    std::string tfvars_path;
    std::map<std::string, std::string> tfvars;
    std::string home;
    bool offline = false;
    bool keep = false;  // --no-shell: the session stays up without an attached command
    std::uint64_t refresh_seconds = 0;  // infisical.refresh; 0: only on 'pull'
    std::vector<std::string> notes;  // warnings for the user from resolving (not sent to the holder)
};

struct PullOverrides {
    std::optional<std::string> cacert;
    std::optional<std::string> environment;
    bool offline = false;
    bool keep = false;
};

Result<PullSettings> resolve_pull_settings(const Config& config, const std::string& config_path, const PullOverrides& overrides);
std::string pull_settings_json(const PullSettings& settings);
Result<PullSettings> parse_pull_settings(std::string_view json);
// The mapping of a pulled key: the config's, else a built-in one for SOPS_AGE_KEY, TALOSCONFIG
// and KUBECONFIG. A config entry {} turns a built-in off.
std::optional<SecretMapping> pulled_mapping_for(const PullSettings& settings, const std::string& key);
// "INFISICAL_CUSTOM_HEADERS=k1=v1 k2=v2" → {"k1: v1", "k2: v2"}.
std::vector<std::string> parse_custom_headers(const std::string& text);

}  // namespace ghostpod
