// The config's "vault" section: a HashiCorp Vault or OpenBao server, the KV paths pulled from
// it, the key mappings and the client certificates issued per session. ghostpod-config(5), VAULT.
#include <set>

#include "pod/formats/text.hpp"
#include "pod/unlock/config_readers.hpp"
#include "vault/payload.hpp"

namespace ghostpod {
namespace {

using nlohmann::json;
using config_readers::bad_key;

const std::string kPrefix = "vault.";

Status read_text(const json& j, const char* key, std::string& out, const std::string& path, const std::string& prefix) {
    auto it = j.find(key);
    if (it == j.end()) return {};
    if (!it->is_string() || it->get<std::string>().empty()) return bad_key(path, prefix + key, "expected a non-empty string");
    for (unsigned char c : it->get_ref<const std::string&>())
        if (c < 0x20 || c == 0x7f) return bad_key(path, prefix + key, "must not contain control characters");
    out = it->get<std::string>();
    return {};
}

Status check_known(const json& j, const std::set<std::string>& known, const std::string& prefix, const std::string& path) {
    for (auto& [name, value] : j.items()) {
        (void)value;
        if (!known.count(name)) return bad_key(path, prefix + name, "unknown key");
    }
    return {};
}

// "secret/talos", "/team/kv/app/" → "team/kv/app": each part usable as a file name below
// $GHOSTPOD_DIR/vault/, since MOUNT/PATH becomes the folder of its keys there.
Result<std::string> read_kv_path(const json& item, const std::string& path) {
    const std::string key = kPrefix + "kv";
    if (!item.is_string()) return bad_key(path, key, "expected a list of \"MOUNT/PATH\" strings");
    std::string text = item.get<std::string>();
    while (!text.empty() && text.front() == '/') text.erase(text.begin());
    while (!text.empty() && text.back() == '/') text.pop_back();
    if (text.find('/') == std::string::npos)
        return bad_key(path, key, "\"" + printable(text, 200) + "\" is not MOUNT/PATH (e.g. \"secret/talos\")");
    if (!validate_entry_name(text))
        return bad_key(path, key, "\"" + printable(text, 200) + "\": each part of MOUNT/PATH is letters, digits and . _ - @ +");
    return text;
}

Result<VaultPkiConfig> read_pki(const json& p, std::size_t index, const std::string& path) {
    std::string prefix = kPrefix + "pki[" + std::to_string(index) + "].";
    if (!p.is_object()) return bad_key(path, prefix.substr(0, prefix.size() - 1), "expected an object");
    GP_TRY(check_known(p, {"mount", "role", "common_name", "for", "user", "context", "key_type", "format"}, prefix, path));
    VaultPkiConfig c;
    GP_TRY(read_text(p, "mount", c.mount, path, prefix));
    GP_TRY(read_text(p, "role", c.role, path, prefix));
    GP_TRY(read_text(p, "common_name", c.common_name, path, prefix));
    GP_TRY(read_text(p, "for", c.target, path, prefix));
    GP_TRY(read_text(p, "user", c.user, path, prefix));
    GP_TRY(read_text(p, "context", c.context, path, prefix));
    GP_TRY(read_text(p, "key_type", c.key_type, path, prefix));
    for (const char* required : {"mount", "role", "common_name", "for"})
        if (!p.contains(required)) return bad_key(path, prefix + required, "missing");
    while (!c.mount.empty() && c.mount.back() == '/') c.mount.pop_back();
    if (!validate_entry_name(c.mount)) return bad_key(path, prefix + "mount", "not a mount path");
    if (c.role.find('/') != std::string::npos || !validate_entry_name(c.role)) return bad_key(path, prefix + "role", "not a role name");
    if (!validate_entry_name(c.target))
        return bad_key(path, prefix + "for", "expected a file of the ghost, as named below $GHOSTPOD_DIR (e.g. \"kube/config\")");
    if (c.key_type != "ec" && c.key_type != "ed25519") return bad_key(path, prefix + "key_type", "expected \"ec\" (P-256) or \"ed25519\"");
    std::string format;
    GP_TRY(read_text(p, "format", format, path, prefix));
    if (!format.empty() && format != "kubeconfig" && format != "talosconfig")
        return bad_key(path, prefix + "format", "expected \"kubeconfig\" or \"talosconfig\"");
    if (!c.user.empty() && !c.context.empty())
        return bad_key(path, prefix + "user", "a kubeconfig user or a talosconfig context, not both");
    // Which file it is: said, or told by "user" / "context", or by the name of the file.
    if (format.empty()) {
        if (!c.user.empty()) format = "kubeconfig";
        else if (!c.context.empty()) format = "talosconfig";
        else if (c.target.find("kube") != std::string::npos) format = "kubeconfig";
        else if (c.target.find("talos") != std::string::npos) format = "talosconfig";
        else return bad_key(path, prefix + "format", "say whether \"for\" is a \"kubeconfig\" or a \"talosconfig\"");
    }
    c.format = format == "kubeconfig" ? ClientCertFormat::kubeconfig : ClientCertFormat::talosconfig;
    if (c.format == ClientCertFormat::kubeconfig && !c.context.empty())
        return bad_key(path, prefix + "context", "a kubeconfig takes \"user\"");
    if (c.format == ClientCertFormat::talosconfig && !c.user.empty())
        return bad_key(path, prefix + "user", "a talosconfig takes \"context\"");
    return c;
}

}  // namespace

Status read_vault_section(const json& j, VaultConfig& c, const std::string& path) {
    if (!j.is_object()) return bad_key(path, "vault", "expected an object");
    c.present = true;
    GP_TRY(check_known(j, {"address", "cacert", "namespace", "auth", "kv", "secrets", "pki", "timeout", "connect_timeout",
                           "retry_for", "max_response_mib", "refresh"},
                       kPrefix, path));
    GP_TRY(read_text(j, "address", c.address, path, kPrefix));
    GP_TRY(read_text(j, "cacert", c.cacert, path, kPrefix));
    GP_TRY(read_text(j, "namespace", c.name_space, path, kPrefix));
    if (auto a = j.find("auth"); a != j.end()) {
        if (!a->is_object()) return bad_key(path, "vault.auth", "expected {\"method\": \"approle\", \"mount\": \"approle\"}");
        GP_TRY(check_known(*a, {"method", "mount"}, "vault.auth.", path));
        std::string method = "approle";
        GP_TRY(read_text(*a, "method", method, path, "vault.auth."));
        if (method != "approle") return bad_key(path, "vault.auth.method", "only \"approle\" is supported");
        GP_TRY(read_text(*a, "mount", c.auth_mount, path, "vault.auth."));
        while (!c.auth_mount.empty() && c.auth_mount.back() == '/') c.auth_mount.pop_back();
        if (!validate_entry_name(c.auth_mount)) return bad_key(path, "vault.auth.mount", "not a mount path");
    }
    if (auto k = j.find("kv"); k != j.end()) {
        if (!k->is_array()) return bad_key(path, "vault.kv", "expected a list of \"MOUNT/PATH\" strings");
        for (const auto& item : *k) {
            auto kv = read_kv_path(item, path);
            if (!kv) return std::move(kv).error();
            c.kv.push_back(*kv);
        }
    }
    if (auto s = j.find("secrets"); s != j.end()) {
        if (!s->is_object()) return bad_key(path, "vault.secrets", "expected an object of KV keys");
        for (auto& [name, m] : s->items()) {
            std::string key = "vault.secrets." + name;
            if (!validate_entry_name(name)) return bad_key(path, key, "expected a KV key, or MOUNT/PATH/KEY");
            auto mapping = config_readers::read_mapping(m, key, path);
            if (!mapping) return std::move(mapping).error();
            c.secrets[name] = *mapping;
        }
    }
    if (auto p = j.find("pki"); p != j.end()) {
        if (!p->is_array()) return bad_key(path, "vault.pki", "expected a list of {\"mount\", \"role\", \"common_name\", \"for\", …}");
        for (std::size_t i = 0; i < p->size(); ++i) {
            auto pki = read_pki((*p)[i], i, path);
            if (!pki) return std::move(pki).error();
            c.pki.push_back(*pki);
        }
    }
    GP_TRY(config_readers::read_duration(j, "timeout", c.timeout_seconds, path, kPrefix));
    GP_TRY(config_readers::read_duration(j, "connect_timeout", c.connect_timeout_seconds, path, kPrefix));
    GP_TRY(config_readers::read_duration(j, "retry_for", c.retry_seconds, path, kPrefix));
    GP_TRY(config_readers::read_refresh(j, c.refresh_seconds, path, kPrefix));
    if (c.timeout_seconds == 0 || c.connect_timeout_seconds == 0)
        return bad_key(path, c.timeout_seconds == 0 ? "vault.timeout" : "vault.connect_timeout", "must be longer than 0");
    if (auto m = j.find("max_response_mib"); m != j.end()) {
        if (!m->is_number_unsigned() || m->get<std::uint64_t>() == 0 || m->get<std::uint64_t>() > 4096)
            return bad_key(path, "vault.max_response_mib", "expected a number of MiB from 1 to 4096");
        c.max_response_mib = m->get<std::uint64_t>();
    }
    if (c.kv.empty() && c.pki.empty()) return bad_key(path, "vault", "names neither \"kv\" paths nor \"pki\" certificates");
    return {};
}

}  // namespace ghostpod
