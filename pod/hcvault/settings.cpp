#include "pod/hcvault/settings.hpp"
#include "pod/formats/text.hpp"

#include "pod/unlock/identity_pin.hpp"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace ghostpod {
namespace {

using nlohmann::json;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::string trim_namespace(std::string ns) {
    while (!ns.empty() && (ns.front() == '/' || ns.front() == ' ')) ns.erase(ns.begin());
    while (!ns.empty() && (ns.back() == '/' || ns.back() == ' ' || ns.back() == '\n')) ns.pop_back();
    return ns;
}

HttpSettings::Hints vault_hints() {
    HttpSettings::Hints h;
    h.untrusted_tls = "the server's TLS certificate is not trusted; for a private CA set vault.cacert (or VAULT_CACERT) to its PEM file";
    h.unreachable = "check the network and vault.address (or VAULT_ADDR); 'ghostpod pull --offline' uses the last pull";
    h.too_large = "the server misbehaves, or the secret is huge: raise vault.max_response_mib";
    return h;
}

json mapping_json(const SecretMapping& m) { return {{"path", m.path}, {"env", m.env}, {"env_value", m.env_value}}; }

}  // namespace

std::string normalise_vault_address(const std::string& address) {
    std::string url = address;
    while (!url.empty() && (url.back() == ' ' || url.back() == '\n' || url.back() == '\r')) url.pop_back();
    while (!url.empty() && url.front() == ' ') url.erase(url.begin());
    if (url.find("://") == std::string::npos) url = "https://" + url;
    while (url.size() > 1 && url.back() == '/') url.pop_back();
    return url;
}

Result<std::optional<VaultPullSettings>> resolve_vault_settings(const Config& config, const std::string& config_path,
                                                                std::vector<std::string>& notes) {
    const VaultConfig& c = config.vault;
    if (!c.present) return std::optional<VaultPullSettings>{};
    VaultPullSettings s;
    // The environment beats the file, as Vault Agent reads its own config.
    std::string address = env("VAULT_ADDR"), address_key = "VAULT_ADDR";
    if (address.empty()) address = c.address, address_key = "vault.address in " + config_path;
    if (address.empty()) address = kDefaultVaultAddress, address_key = "the default";
    s.target.address = normalise_vault_address(address);
    GP_TRY(check_transport(s.target.address, address_key));
    s.target.auth_mount = c.auth_mount;
    s.name_space = trim_namespace(env("VAULT_NAMESPACE").empty() ? c.name_space : env("VAULT_NAMESPACE"));
    if (s.name_space.find_first_of("\r\n") != std::string::npos)
        return make_error(ErrorCode::usage, "use Vault namespace", "it holds a line break", "check VAULT_NAMESPACE and vault.namespace");

    // VAULT_CACERT relative to the working directory (as the vault CLI takes it), vault.cacert to the config.
    std::string cacert = env("VAULT_CACERT");
    bool from_env = !cacert.empty();
    if (!from_env) cacert = c.cacert;
    if (!cacert.empty()) {
        const char* home = std::getenv("HOME");
        auto resolved = resolve_ca_file(cacert, home ? home : "", from_env ? "." : dir_of(config_path),
                                        from_env ? "VAULT_CACERT" : "vault.cacert");
        if (!resolved) return std::move(resolved).error();
        s.http.cacert = *resolved;
    }
    if (!env("VAULT_CAPATH").empty() && env("VAULT_CACERT").empty() && c.cacert.empty())
        notes.push_back("VAULT_CAPATH is not read: set VAULT_CACERT (or vault.cacert) to a PEM file for a private CA");
    if (!env("VAULT_SKIP_VERIFY").empty()) notes.push_back("VAULT_SKIP_VERIFY is ignored: the Vault server's TLS certificate is always verified");

    s.http.connect_timeout_ms = c.connect_timeout_seconds * 1000;
    s.http.request_timeout_ms = c.timeout_seconds * 1000;
    s.http.retry_budget_ms = c.retry_seconds * 1000;
    s.http.max_response_bytes = c.max_response_mib << 20;
    // What the vault CLI sends: the namespace, and the header its agent requires against SSRF.
    s.http.extra_headers = {"X-Vault-Request: true"};
    if (!s.name_space.empty()) s.http.extra_headers.push_back("X-Vault-Namespace: " + s.name_space);
    s.http.hints = vault_hints();
    s.kv = c.kv;
    s.mappings = c.secrets;
    s.pki = c.pki;
    s.refresh_seconds = c.refresh_seconds;
    return std::optional<VaultPullSettings>(std::move(s));
}

json vault_settings_to_json(const VaultPullSettings& s) {
    json mappings = json::object();
    for (const auto& [key, m] : s.mappings) mappings[key] = mapping_json(m);
    json pki = json::array();
    for (const auto& p : s.pki)
        pki.push_back({{"mount", p.mount}, {"role", p.role}, {"common_name", p.common_name}, {"for", p.target},
                       {"format", p.format == ClientCertFormat::kubeconfig ? "kubeconfig" : "talosconfig"},
                       {"user", p.user}, {"context", p.context}, {"key_type", p.key_type}});
    return {{"address", s.target.address},
            {"auth_mount", s.target.auth_mount},
            {"namespace", s.name_space},
            {"cacert", s.http.cacert},
            {"connect_timeout_ms", s.http.connect_timeout_ms},
            {"request_timeout_ms", s.http.request_timeout_ms},
            {"retry_budget_ms", s.http.retry_budget_ms},
            {"max_response_bytes", s.http.max_response_bytes},
            {"kv", s.kv},
            {"mappings", mappings},
            {"pki", pki},
            {"refresh_seconds", s.refresh_seconds}};
}

Result<VaultPullSettings> vault_settings_from_json(const json& j) {
    VaultPullSettings s;
    try {
        s.target.address = j.at("address").get<std::string>();
        s.target.auth_mount = j.at("auth_mount").get<std::string>();
        s.name_space = j.at("namespace").get<std::string>();
        s.http.cacert = j.at("cacert").get<std::string>();
        s.http.connect_timeout_ms = j.at("connect_timeout_ms").get<std::uint64_t>();
        s.http.request_timeout_ms = j.at("request_timeout_ms").get<std::uint64_t>();
        s.http.retry_budget_ms = j.at("retry_budget_ms").get<std::uint64_t>();
        s.http.max_response_bytes = j.at("max_response_bytes").get<std::size_t>();
        s.kv = j.at("kv").get<std::vector<std::string>>();
        s.refresh_seconds = j.at("refresh_seconds").get<std::uint64_t>();
        for (auto& [key, m] : j.at("mappings").items())
            s.mappings[key] = {m.at("path").get<std::string>(), m.at("env").get<std::string>(), m.at("env_value").get<bool>()};
        for (const auto& p : j.at("pki")) {
            VaultPkiConfig c;
            c.mount = p.at("mount").get<std::string>();
            c.role = p.at("role").get<std::string>();
            c.common_name = p.at("common_name").get<std::string>();
            c.target = p.at("for").get<std::string>();
            c.format = p.at("format").get<std::string>() == "talosconfig" ? ClientCertFormat::talosconfig : ClientCertFormat::kubeconfig;
            c.user = p.at("user").get<std::string>();
            c.context = p.at("context").get<std::string>();
            c.key_type = p.at("key_type").get<std::string>();
            s.pki.push_back(std::move(c));
        }
    } catch (const json::exception& e) {
        return make_error(ErrorCode::runtime, "read the Vault pull settings", e.what());
    }
    s.http.extra_headers = {"X-Vault-Request: true"};
    if (!s.name_space.empty()) s.http.extra_headers.push_back("X-Vault-Namespace: " + s.name_space);
    s.http.hints = vault_hints();
    return s;
}

bool same_vault_source(const VaultPullSettings& a, const VaultPullSettings& b) {
    auto pki_key = [](const std::vector<VaultPkiConfig>& list) {
        std::vector<std::string> out;
        for (const auto& p : list) out.push_back(p.mount + "\n" + p.role + "\n" + p.common_name + "\n" + p.target + "\n" + p.user +
                                                 "\n" + p.context + "\n" + p.key_type);
        return out;
    };
    return a.target.address == b.target.address && a.target.auth_mount == b.target.auth_mount && a.name_space == b.name_space &&
           a.http.cacert == b.http.cacert && a.kv == b.kv && pki_key(a.pki) == pki_key(b.pki);
}

std::string joined_kv_paths(const std::vector<std::string>& kv) {
    std::string out;
    for (const auto& p : kv) out += (out.empty() ? "" : ",") + p;
    return out;
}

std::string describe_vault_source(const VaultPullSettings& s) {
    return s.target.address + (s.name_space.empty() ? "" : " (namespace " + s.name_space + ")");
}

std::optional<SecretMapping> vault_mapping_for(const VaultPullSettings& s, const KvSecret& secret) {
    for (const std::string& name : {secret.mount + "/" + secret.path + "/" + secret.key, secret.key}) {
        if (auto it = s.mappings.find(name); it != s.mappings.end()) {
            if (it->second.path.empty() && it->second.env.empty()) return std::nullopt;  // {} turns a built-in off
            return it->second;
        }
    }
    return builtin_pulled_mapping(secret.key);
}

}  // namespace ghostpod
