// What a pull needs to know about the Vault / OpenBao source, resolved once in the command from
// (highest first) VAULT_ADDR, VAULT_NAMESPACE and VAULT_CACERT, the config's "vault" section and
// defaults (as the vault CLI and Vault Agent read them), then handed to the session's holder as
// JSON inside the pull settings. Holds no secret.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pod/hcvault/answers.hpp"
#include "pod/hcvault/client.hpp"
#include "pod/net/http.hpp"
#include "pod/unlock/config.hpp"

namespace ghostpod {

// The vault CLI's default when neither VAULT_ADDR nor vault.address says.
inline constexpr const char* kDefaultVaultAddress = "https://127.0.0.1:8200";
// Where KV keys appear: $GHOSTPOD_DIR/vault/<MOUNT>/<PATH>/<KEY>.
inline constexpr const char* kVaultPulledPrefix = "vault/";

struct VaultPullSettings {
    VaultTarget target;
    std::string name_space;                         // sent as X-Vault-Namespace; "" for none
    HttpSettings http;                              // cacert, limits, the namespace header, hints
    std::vector<std::string> kv;                    // "MOUNT/PATH", in order
    std::map<std::string, SecretMapping> mappings;  // vault.secrets
    std::vector<VaultPkiConfig> pki;
    std::uint64_t refresh_seconds = 0;              // vault.refresh; 0: only on 'pull'
};

// nullopt when the config has no "vault" section. `notes` gets warnings for the user (a
// variable that is not read, plain http to another machine).
Result<std::optional<VaultPullSettings>> resolve_vault_settings(const Config& config, const std::string& config_path,
                                                                std::vector<std::string>& notes);
nlohmann::json vault_settings_to_json(const VaultPullSettings& settings);
Result<VaultPullSettings> vault_settings_from_json(const nlohmann::json& j);

// "host:8200", " https://host:8200/ " → "https://host:8200": https added when no scheme is given.
std::string normalise_vault_address(const std::string& address);
// The server, CA, namespace, auth mount, KV paths and PKI roles: what a running session keeps.
bool same_vault_source(const VaultPullSettings& a, const VaultPullSettings& b);
// "secret/talos,secret/kube".
std::string joined_kv_paths(const std::vector<std::string>& kv);
// "https://host:8200 (namespace team/a)".
std::string describe_vault_source(const VaultPullSettings& settings);

// Where a pulled key appears besides $GHOSTPOD_DIR/vault/MOUNT/PATH/KEY: vault.secrets for
// MOUNT/PATH/KEY, else for KEY, else the built-in place of SOPS_AGE_KEY, TALOSCONFIG and
// KUBECONFIG. An entry {} turns a built-in off.
std::optional<SecretMapping> vault_mapping_for(const VaultPullSettings& settings, const KvSecret& secret);

}  // namespace ghostpod
