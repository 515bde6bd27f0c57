// The project or user config (.ghostpod/config.json): no secrets, safe to commit.
// man/ghostpod-config.5 documents every key.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pod/unlock/config_rules.hpp"
#include "pod/formats/client_cert.hpp"
#include "vault/result.hpp"

namespace ghostpod {

inline constexpr int kConfigVersion = 1;

// Where one vault secret appears inside the ghost.
struct SecretMapping {
    std::string path;       // absolute or "~/…"; empty: only $GHOSTPOD_DIR/<name>
    std::string env;        // variable to set, empty for none
    bool env_value = false; // the variable holds the value itself, not the path
    std::optional<std::uint16_t> mode;  // "mode": 0400 or 0600 (writable in the ghost); none: the entry's own
};

struct SessionSettings {
    std::uint64_t ttl_seconds = 8 * 3600;  // the session ends this long after it started
    std::uint64_t linger_seconds = 0;      // kept this long after the last attached command ends
    std::uint64_t ram_limit_bytes = 64u << 20;
    bool save_on_lock = false;             // 'lock' first saves the ghost's changes to the vault
    bool prompt = true;                    // shell and enter mark their prompt with the session
    // "pass_env": caller variables (names, or "PREFIX_*") passed into commands, besides the
    // built-in list (pod/session/command.cpp); each checked against refused_variable.
    std::vector<std::string> pass_env;
};

// The "infisical" section: where to pull from and where pulled keys appear in the ghost.
struct InfisicalConfig {
    bool present = false;
    std::string host, project_id, environment, organization_slug, cacert;
    std::vector<std::string> paths;
    std::optional<bool> recursive, include_imports, expand_references;
    std::map<std::string, SecretMapping> secrets;   // Infisical key → where it appears
    std::string tfvars_path;                        // a .tfvars file written in the ghost only
    std::map<std::string, std::string> tfvars;      // terraform variable → Infisical key
    std::uint64_t timeout_seconds = 60, connect_timeout_seconds = 10, retry_seconds = 20;
    std::uint64_t max_response_mib = 256;
    std::uint64_t refresh_seconds = 0;  // "refresh": the session pulls again this often; 0: only on 'pull'
};

// The shortest "refresh" a config may ask for.
inline constexpr std::uint64_t kMinRefreshSeconds = 10;

// One client certificate issued per session by a Vault PKI mount (vault.pki): the key pair is
// made in the holder, Vault signs its CSR, and both go into a kubeconfig user or a talosconfig
// context of a file in the ghost.
struct VaultPkiConfig {
    std::string mount, role, common_name;
    std::string target;   // "for": the file below $GHOSTPOD_DIR that gets the certificate
    ClientCertFormat format = ClientCertFormat::kubeconfig;
    std::string user;     // kubeconfig: users[user]; empty: the current context's user
    std::string context;  // talosconfig: contexts[context]; empty: the current context
    std::string key_type = "ec";  // "ec" (P-256) or "ed25519"
};

// The "vault" section: a HashiCorp Vault or OpenBao server, its KV paths, the key mappings and
// the per-session client certificates (config_vault.cpp reads it).
struct VaultConfig {
    bool present = false;
    std::string address, cacert, name_space;
    std::string auth_mount = "approle";  // auth.method is "approle", the only one spoken
    std::vector<std::string> kv;         // "MOUNT/PATH", slashes trimmed
    std::map<std::string, SecretMapping> secrets;  // KEY or MOUNT/PATH/KEY → where it appears
    std::vector<VaultPkiConfig> pki;
    std::uint64_t timeout_seconds = 60, connect_timeout_seconds = 10, retry_seconds = 20;
    std::uint64_t max_response_mib = 256;
    std::uint64_t refresh_seconds = 0;  // as InfisicalConfig's
};

struct Config {
    bool found = false;  // false: no file, defaults apply
    int version = kConfigVersion;
    std::map<std::string, SecretMapping> secrets;
    std::map<std::string, std::vector<std::string>> profiles;
    SessionSettings session;
    InfisicalConfig infisical;
    VaultConfig vault;
};

// A missing file is not an error (defaults apply); malformed JSON, an unknown version or a
// malformed key is (ErrorCode::usage, naming the key).
Result<Config> load_config(const std::string& path);
// The same on the file's text; `path` only names the file in errors.
Result<Config> parse_config(std::string_view text, const std::string& path);
// "line L, column C" (1-based; columns count UTF-8 characters) of the byte a JSON parser stopped
// at, given as nlohmann's parse_error::byte (the count of bytes read).
std::string json_error_place(std::string_view text, std::size_t byte);
// The config and .gitignore that 'init' writes into a new .ghostpod directory, each only if
// missing. True when it wrote the config.
Result<bool> write_project_scaffold(const std::string& ghostpod_dir);
// The mapping a secret gets: the config's, else the built-in one for well-known names
// (kube/config, talos/config, sops/age/keys.txt, aws/credentials, terraform.d/credentials.tfrc.json).
std::optional<SecretMapping> mapping_for(const Config& config, const std::string& name);
// The built-in place of a pulled key, whatever the backend: SOPS_AGE_KEY, TALOSCONFIG and
// KUBECONFIG at the tools' default paths, with their variables.
std::optional<SecretMapping> builtin_pulled_mapping(const std::string& key);

}  // namespace ghostpod
