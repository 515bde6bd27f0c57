#include "pod/unlock/config.hpp"
#include "pod/unlock/config_readers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <span>

#include "vault/payload.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kMaxConfigBytes = 1u << 20;

// Whether it wrote the file (false: one was there already).
Result<bool> write_if_missing(const std::string& path, const std::string& text) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid()) return errno == EEXIST ? Result<bool>(false) : Result<bool>(sys_error("create " + path));
    // Meant to be committed and read by collaborators: 0644 whatever the process umask.
    if (::fchmod(fd.get(), 0644) != 0) return sys_error("chmod " + path);
    GP_TRY(write_all(fd.get(), text_bytes(text), "write " + path));
    if (::fsync(fd.get()) != 0) return sys_error("fsync " + path);
    return true;
}

const std::map<std::string, SecretMapping>& well_known() {
    static const std::map<std::string, SecretMapping> table = {
        {"kube/config", {"~/.kube/config", "KUBECONFIG", false}},
        {"talos/config", {"~/.talos/config", "TALOSCONFIG", false}},
        {"sops/age/keys.txt", {"~/.config/sops/age/keys.txt", "SOPS_AGE_KEY_FILE", false}},
        {"aws/credentials", {"~/.aws/credentials", "AWS_SHARED_CREDENTIALS_FILE", false}},
        {"terraform.d/credentials.tfrc.json", {"~/.terraform.d/credentials.tfrc.json", "", false}},
    };
    return table;
}

bool valid_env_name(const std::string& name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

Error bad_key(const std::string& path, const std::string& key, const std::string& why) {
    return make_error(ErrorCode::usage, "read config " + path, "\"" + key + "\": " + why, "see ghostpod-config(5)");
}

Status check_ghost_path(const std::string& value, const std::string& key, const std::string& path) {
    const char* home = std::getenv("HOME");
    if (auto why = refused_ghost_path(value, home ? home : "")) return bad_key(path, key, *why);
    return {};
}

Status read_duration(const nlohmann::json& j, const char* key, std::uint64_t& out, const std::string& path,
                     const std::string& prefix = "session.") {
    auto it = j.find(key);
    if (it == j.end()) return {};
    // One cap for both forms: an integer is seconds and goes through the same parser.
    auto seconds = it->is_string()            ? parse_duration(it->get<std::string>())
                   : it->is_number_unsigned() ? parse_duration(std::to_string(it->get<std::uint64_t>()))
                                              : std::nullopt;
    if (!seconds)
        return bad_key(path, prefix + key, "expected a duration like \"90s\", \"15m\", \"8h\" (or seconds), at most " +
                                               std::to_string(kMaxDurationSeconds / 86400) + "d");
    out = *seconds;
    return {};
}

Status read_pass_env(const nlohmann::json& list, SessionSettings& s, const std::string& path) {
    if (!list.is_array()) return bad_key(path, "session.pass_env", "expected a list of variable names or \"PREFIX_*\" patterns");
    for (const auto& item : list) {
        if (!item.is_string()) return bad_key(path, "session.pass_env", "expected a list of variable names or \"PREFIX_*\" patterns");
        std::string entry = item.get<std::string>();
        if (auto why = refused_pass_env(entry)) return bad_key(path, "session.pass_env", "\"" + entry + "\": " + *why);
        s.pass_env.push_back(entry);
    }
    return {};
}

// "refresh": a duration of at least kMinRefreshSeconds (a shorter one would hammer the server).
Status read_refresh(const nlohmann::json& j, std::uint64_t& out, const std::string& path, const std::string& prefix) {
    GP_TRY(read_duration(j, "refresh", out, path, prefix));
    if (j.contains("refresh") && out < kMinRefreshSeconds)
        return bad_key(path, prefix + "refresh", "must be at least " + std::to_string(kMinRefreshSeconds) + "s");
    return {};
}

Status read_session(const nlohmann::json& j, SessionSettings& s, const std::string& path) {
    if (!j.is_object()) return bad_key(path, "session", "expected an object");
    GP_TRY(read_duration(j, "ttl", s.ttl_seconds, path));
    GP_TRY(read_duration(j, "linger", s.linger_seconds, path));
    if (auto it = j.find("ram_limit_mib"); it != j.end()) {
        if (!it->is_number_unsigned() || it->get<std::uint64_t>() == 0 || it->get<std::uint64_t>() > 4096)
            return bad_key(path, "session.ram_limit_mib", "expected a number of MiB from 1 to 4096");
        s.ram_limit_bytes = it->get<std::uint64_t>() << 20;
    }
    if (auto it = j.find("save_on_lock"); it != j.end()) {
        if (!it->is_boolean()) return bad_key(path, "session.save_on_lock", "expected true or false");
        s.save_on_lock = it->get<bool>();
    }
    if (auto it = j.find("pass_env"); it != j.end()) GP_TRY(read_pass_env(*it, s, path));
    if (auto it = j.find("prompt"); it != j.end()) {
        if (!it->is_boolean()) return bad_key(path, "session.prompt", "expected true or false");
        s.prompt = it->get<bool>();
    }
    return {};
}

Result<SecretMapping> read_mapping(const nlohmann::json& m, const std::string& key, const std::string& path) {
    if (!m.is_object()) return bad_key(path, key, "expected an object with \"path\" and/or \"env\"");
    SecretMapping mapping;
    if (auto p = m.find("path"); p != m.end()) {
        if (!p->is_string()) return bad_key(path, key + ".path", "expected a string");
        mapping.path = p->get<std::string>();
        GP_TRY(check_ghost_path(mapping.path, key + ".path", path));
    }
    if (auto e = m.find("env"); e != m.end()) {
        if (!e->is_string() || !valid_env_name(e->get<std::string>()))
            return bad_key(path, key + ".env", "expected a variable name");
        if (auto why = refused_variable(e->get<std::string>())) return bad_key(path, key + ".env", *why);
        mapping.env = e->get<std::string>();
    }
    if (auto v = m.find("env_value"); v != m.end()) {
        if (!v->is_boolean()) return bad_key(path, key + ".env_value", "expected true or false");
        mapping.env_value = v->get<bool>();
    }
    if (mapping.env_value && mapping.env.empty()) return bad_key(path, key + ".env_value", "needs \"env\"");
    if (auto mode = m.find("mode"); mode != m.end()) {
        // A short list on purpose: the owner's read, or read and write (kubectl config use-context).
        std::string text = mode->is_string() ? mode->get<std::string>() : "";
        if (text != "0400" && text != "0600") return bad_key(path, key + ".mode", "expected \"0400\" (read-only) or \"0600\" (writable)");
        mapping.mode = text == "0600" ? 0600 : 0400;
    }
    return mapping;
}

Status read_secrets(const nlohmann::json& j, Config& config, const std::string& path) {
    if (!j.is_object()) return bad_key(path, "secrets", "expected an object of secret names");
    for (auto& [name, m] : j.items()) {
        std::string key = "secrets." + name;
        if (!validate_entry_name(name)) return bad_key(path, key, "not a valid secret name");
        auto mapping = read_mapping(m, key, path);
        if (!mapping) return std::move(mapping).error();
        config.secrets[name] = *mapping;
    }
    return {};
}

Status read_string(const nlohmann::json& j, const char* key, std::string& out, const std::string& path) {
    auto it = j.find(key);
    if (it == j.end()) return {};
    if (!it->is_string() || it->get<std::string>().empty()) return bad_key(path, std::string("infisical.") + key, "expected a non-empty string");
    out = it->get<std::string>();
    return {};
}

Status read_bool(const nlohmann::json& j, const char* key, std::optional<bool>& out, const std::string& path) {
    auto it = j.find(key);
    if (it == j.end()) return {};
    if (!it->is_boolean()) return bad_key(path, std::string("infisical.") + key, "expected true or false");
    out = it->get<bool>();
    return {};
}

Status read_folder(const std::string& folder, const std::string& key, const std::string& path) {
    if (folder.empty() || folder[0] != '/' || folder.find("..") != std::string::npos)
        return bad_key(path, key, "a folder path starts with / (e.g. \"/\" or \"/talos\")");
    for (unsigned char c : folder)
        if (c < 0x20 || c == 0x7f) return bad_key(path, key, "must not contain control characters");
    return {};
}

Status read_infisical(const nlohmann::json& j, InfisicalConfig& c, const std::string& path) {
    if (!j.is_object()) return bad_key(path, "infisical", "expected an object");
    c.present = true;
    for (auto& [name, value] : j.items()) {
        static const std::set<std::string> kKnown = {"host", "project_id", "environment", "paths", "recursive",
                                                      "include_imports", "expand_references", "organization_slug",
                                                      "cacert", "timeout", "connect_timeout", "retry_for", "max_response_mib",
                                                      "secrets", "tfvars", "refresh"};
        (void)value;
        if (!kKnown.count(name)) return bad_key(path, "infisical." + name, "unknown key");
    }
    GP_TRY(read_string(j, "host", c.host, path));
    GP_TRY(read_string(j, "project_id", c.project_id, path));
    GP_TRY(read_string(j, "environment", c.environment, path));
    GP_TRY(read_string(j, "organization_slug", c.organization_slug, path));
    GP_TRY(read_string(j, "cacert", c.cacert, path));
    GP_TRY(read_bool(j, "recursive", c.recursive, path));
    GP_TRY(read_bool(j, "include_imports", c.include_imports, path));
    GP_TRY(read_bool(j, "expand_references", c.expand_references, path));
    if (auto p = j.find("paths"); p != j.end()) {
        if (!p->is_array() || p->empty()) return bad_key(path, "infisical.paths", "expected a list of folder paths");
        for (const auto& folder : *p) {
            if (!folder.is_string()) return bad_key(path, "infisical.paths", "expected a list of folder paths");
            GP_TRY(read_folder(folder.get<std::string>(), "infisical.paths", path));
            c.paths.push_back(folder.get<std::string>());
        }
    }
    std::string prefix = "infisical.";
    GP_TRY(read_duration(j, "timeout", c.timeout_seconds, path, prefix));
    GP_TRY(read_duration(j, "connect_timeout", c.connect_timeout_seconds, path, prefix));
    GP_TRY(read_duration(j, "retry_for", c.retry_seconds, path, prefix));
    GP_TRY(read_refresh(j, c.refresh_seconds, path, prefix));
    if (c.timeout_seconds == 0 || c.connect_timeout_seconds == 0)
        return bad_key(path, c.timeout_seconds == 0 ? "infisical.timeout" : "infisical.connect_timeout", "must be longer than 0");
    if (auto m = j.find("max_response_mib"); m != j.end()) {
        if (!m->is_number_unsigned() || m->get<std::uint64_t>() == 0 || m->get<std::uint64_t>() > 4096)
            return bad_key(path, "infisical.max_response_mib", "expected a number of MiB from 1 to 4096");
        c.max_response_mib = m->get<std::uint64_t>();
    }
    if (auto s = j.find("secrets"); s != j.end()) {
        if (!s->is_object()) return bad_key(path, "infisical.secrets", "expected an object of Infisical keys");
        for (auto& [name, m] : s->items()) {
            std::string key = "infisical.secrets." + name;
            if (name.empty() || name.find('/') != std::string::npos || !validate_entry_name(name))
                return bad_key(path, key, "not a usable Infisical key");
            auto mapping = read_mapping(m, key, path);
            if (!mapping) return std::move(mapping).error();
            c.secrets[name] = *mapping;
        }
    }
    if (auto t = j.find("tfvars"); t != j.end()) {
        if (!t->is_object() || !t->contains("path") || !(*t)["path"].is_string() || !t->contains("variables") ||
            !(*t)["variables"].is_object())
            return bad_key(path, "infisical.tfvars", "expected {\"path\": \"~/….auto.tfvars\", \"variables\": {\"name\": \"KEY\"}}");
        c.tfvars_path = (*t)["path"].get<std::string>();
        GP_TRY(check_ghost_path(c.tfvars_path, "infisical.tfvars.path", path));
        for (auto& [var, key] : (*t)["variables"].items()) {
            if (!valid_env_name(var) || !key.is_string())
                return bad_key(path, "infisical.tfvars.variables." + var, "expected a terraform variable name and an Infisical key");
            c.tfvars[var] = key.get<std::string>();
        }
    }
    return {};
}

Status read_profiles(const nlohmann::json& j, Config& config, const std::string& path) {
    if (!j.is_object()) return bad_key(path, "profiles", "expected an object of profile names");
    for (auto& [name, list] : j.items()) {
        if (name.empty() || !list.is_array()) return bad_key(path, "profiles." + name, "expected an array of secret names");
        for (unsigned char c : name)
            if (c < 0x20 || c == 0x7f) return bad_key(path, "profiles." + name, "a profile name has no control characters");
        std::vector<std::string> names;
        for (auto& n : list) {
            if (!n.is_string() || !validate_entry_name(n.get<std::string>()))
                return bad_key(path, "profiles." + name, "every item must be a secret name");
            names.push_back(n.get<std::string>());
        }
        config.profiles[name] = std::move(names);
    }
    return {};
}

}  // namespace

std::optional<SecretMapping> builtin_pulled_mapping(const std::string& key) {
    static const std::map<std::string, SecretMapping> table = {
        {"SOPS_AGE_KEY", {"~/.config/sops/age/keys.txt", "SOPS_AGE_KEY_FILE", false}},
        {"TALOSCONFIG", {"~/.talos/config", "TALOSCONFIG", false}},
        {"KUBECONFIG", {"~/.kube/config", "KUBECONFIG", false}},
    };
    if (auto it = table.find(key); it != table.end()) return it->second;
    return std::nullopt;
}

std::optional<SecretMapping> mapping_for(const Config& config, const std::string& name) {
    if (auto it = config.secrets.find(name); it != config.secrets.end()) return it->second;
    if (auto it = well_known().find(name); it != well_known().end()) return it->second;
    return std::nullopt;
}

Result<Config> load_config(const std::string& path) {
    Config config;
    auto bytes = read_file(path, kMaxConfigBytes);
    if (!bytes) {
        if (bytes.error().errnum == ENOENT) return config;
        return std::move(bytes).error();
    }
    return parse_config(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), path);
}

std::string json_error_place(std::string_view text, std::size_t byte) {
    // nlohmann counts the bytes it read: the one it stopped at is byte - 1 (0-based).
    std::size_t at = std::min(byte == 0 ? 0 : byte - 1, text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < at; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++column;  // UTF-8 continuation bytes belong to the character before them
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

namespace {

// A JSON syntax error as "line L, column C: what is wrong", without the text found there (a
// file passed as --config by mistake may hold anything).
Error json_syntax_error(std::string_view text, const std::string& path) {
    try {
        auto parsed = nlohmann::json::parse(text.begin(), text.end());
        (void)parsed;
    } catch (const nlohmann::json::parse_error& e) {
        std::string why = e.what();
        if (auto colon = why.find(": ", why.find("column")); colon != std::string::npos) why = why.substr(colon + 2);
        if (auto last = why.find("; last read: "); last != std::string::npos) {
            auto end = why.find("; ", last + 13);
            why.erase(last, end == std::string::npos ? std::string::npos : end - last);
        }
        return make_error(ErrorCode::usage, "read config " + path,
                          "JSON syntax error at " + json_error_place(text, e.byte) + ": " + why,
                          "fix the file; see ghostpod-config(5)");
    } catch (const nlohmann::json::exception&) {
    }
    return make_error(ErrorCode::usage, "read config " + path, "not valid JSON", "fix the file; see ghostpod-config(5)");
}

}  // namespace

Result<Config> parse_config(std::string_view text, const std::string& path) {
    Config config;
    config.found = true;
    auto json = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (json.is_discarded()) return json_syntax_error(text, path);
    if (!json.is_object())
        return make_error(ErrorCode::usage, "read config " + path, "not a JSON object", "fix the file; see ghostpod-config(5)");
    if (auto v = json.find("version"); v != json.end()) {
        if (!v->is_number_integer() || v->get<int>() != kConfigVersion)
            return make_error(ErrorCode::usage, "read config " + path,
                              "unsupported \"version\" (this ghostpod reads version " + std::to_string(kConfigVersion) + ")",
                              "see ghostpod-config(5)");
    }
    if (auto s = json.find("secrets"); s != json.end()) GP_TRY(read_secrets(*s, config, path));
    if (auto p = json.find("profiles"); p != json.end()) GP_TRY(read_profiles(*p, config, path));
    if (auto s = json.find("session"); s != json.end()) GP_TRY(read_session(*s, config.session, path));
    if (auto i = json.find("infisical"); i != json.end()) GP_TRY(read_infisical(*i, config.infisical, path));
    if (auto v = json.find("vault"); v != json.end()) GP_TRY(read_vault_section(*v, config.vault, path));
    return config;
}

Result<bool> write_project_scaffold(const std::string& dir) {
    auto config = write_if_missing(dir + "/config.json", "{\n  \"version\": 1\n}\n");
    if (!config) return config;
    // The vault is encrypted, but it has no business in Git history: a leaked passphrase would
    // then unlock every copy ever pushed.
    auto ignore = write_if_missing(dir + "/.gitignore",
                                   "# written by 'ghostpod init': keep the vault and its by-products out of Git\n"
                                   "vault\nvault.bak\nvault.lock\n.vault.tmp-*\n");
    if (!ignore) return std::move(ignore).error();
    return *config;
}

// The readers other sections' files (config_vault.cpp) share with this one.
namespace config_readers {
Error bad_key(const std::string& path, const std::string& key, const std::string& why) {
    return ghostpod::bad_key(path, key, why);
}
Result<SecretMapping> read_mapping(const nlohmann::json& m, const std::string& key, const std::string& path) {
    return ghostpod::read_mapping(m, key, path);
}
Status read_duration(const nlohmann::json& j, const char* key, std::uint64_t& out, const std::string& path,
                     const std::string& prefix) {
    return ghostpod::read_duration(j, key, out, path, prefix);
}
Status read_refresh(const nlohmann::json& j, std::uint64_t& out, const std::string& path, const std::string& prefix) {
    return ghostpod::read_refresh(j, out, path, prefix);
}
}  // namespace config_readers

}  // namespace ghostpod
