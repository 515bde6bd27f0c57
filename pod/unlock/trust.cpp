#include "pod/unlock/trust.hpp"
#include "pod/formats/text.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kMaxFileBytes = 1u << 20;  // as the config and .infisical.json readers

std::optional<std::string> real_path(const std::string& path) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) return std::nullopt;
    return std::string(resolved);
}

std::string base_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string join(const std::string& dir, const std::string& name) { return (dir == "/" ? "" : dir) + "/" + name; }

std::string absolute(const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    char cwd[PATH_MAX];
    return ::getcwd(cwd, sizeof cwd) ? join(cwd, path) : path;
}

std::string duration_text(std::uint64_t s) {
    if (s != 0 && s % 86400 == 0) return std::to_string(s / 86400) + "d";
    if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
    if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
    return std::to_string(s) + "s";
}

std::string mapping_text(const std::string& name, const SecretMapping& m) {
    std::string text = name + " →";
    if (!m.path.empty()) text += " " + m.path;
    if (!m.env.empty()) text += std::string(m.path.empty() ? " $" : ", $") + m.env + (m.env_value ? " (value)" : "");
    if (m.path.empty() && m.env.empty()) text += " (built-in mapping off)";
    return text;
}

void append_mappings(std::string& out, const std::string& what, const std::map<std::string, SecretMapping>& mappings) {
    if (mappings.empty()) return;
    out += "; " + what + " ";
    std::size_t shown = 0;
    for (const auto& [name, m] : mappings) {
        if (shown == 4) {
            out += ", and " + std::to_string(mappings.size() - shown) + " more";
            break;
        }
        out += (shown++ ? ", " : "") + mapping_text(name, m);
    }
}

std::string describe_infisical_json(std::span<const std::uint8_t> bytes) {
    auto j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (!j.is_object()) return "not a JSON object";
    std::string out;
    auto add = [&](const char* key, const char* label) {
        if (auto it = j.find(key); it != j.end() && it->is_string()) out += (out.empty() ? "" : ", ") + std::string(label) + " " + it->get<std::string>();
    };
    add("domain", "server");
    add("workspaceId", "project");
    add("defaultEnvironment", "environment");
    add("defaultSecretPath", "folder");
    if (j.contains("gitBranchToEnvironmentMapping")) out += (out.empty() ? "" : ", ") + std::string("environments by Git branch");
    return out.empty() ? "set nothing ghostpod reads" : "set " + out + " for 'ghostpod pull'";
}

// The project directory of a vault found at <project>/.ghostpod/vault, or nullopt.
std::optional<std::string> project_of_vault(const std::string& location) {
    std::string ghostpod_dir = dir_of(location);
    if (base_of(location) != "vault" || base_of(ghostpod_dir) != ".ghostpod") return std::nullopt;
    return dir_of(ghostpod_dir);
}

// The key a vault location is recorded under: the real project directory and .ghostpod/vault
// below it, not resolved further (a link at .ghostpod itself must not change the key).
std::string vault_key(const std::string& location) {
    std::string abs = absolute(location);
    if (auto project = project_of_vault(abs)) return join(real_path(*project).value_or(*project), ".ghostpod/vault");
    return join(real_path(dir_of(abs)).value_or(dir_of(abs)), base_of(abs));
}

// Where a vault location leads, when that is not plainly inside its project: its target (or the
// link text for a dangling link). nullopt: a vault inside its project, or none at all.
std::optional<std::string> vault_outside_target(const std::string& location) {
    struct stat st {};
    if (::lstat(location.c_str(), &st) != 0) return std::nullopt;
    auto target = real_path(location);
    if (S_ISLNK(st.st_mode)) {
        if (target) return target;
        char text[PATH_MAX];
        ssize_t n = ::readlink(location.c_str(), text, sizeof text - 1);
        return n < 0 ? std::string("?") : std::string(text, static_cast<std::size_t>(n));
    }
    if (target && *target != vault_key(location)) return target;
    return std::nullopt;
}

Result<TrustState> vault_state(const std::string& location, const std::string& target) {
    auto record = find_trust_record(vault_key(location));
    if (!record) return std::move(record).error();
    if (!*record || (*record)->kind != TrustedKind::vault_link) return TrustState::unknown;
    return (*record)->target == target ? TrustState::allowed : TrustState::changed;
}

std::string vault_effect(const std::string& target) {
    return "open the vault " + target + " (where the link leads) with this directory's config";
}

Result<TrustCandidate> file_candidate(TrustedKind kind, const std::string& path, std::uint64_t now) {
    auto bytes = read_file(path, kMaxFileBytes);
    if (!bytes) return std::move(bytes).error();
    TrustCandidate c;
    c.shown = path;
    c.record.kind = kind;
    c.record.path = real_path(path).value_or(absolute(path));
    c.record.sha256 = sha256_hex(*bytes);
    c.record.allowed_at = now;
    if (kind == TrustedKind::config) {
        auto config = parse_config(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), path);
        if (config) c.effect = describe_config(*config);
        else c.unusable = std::move(config).error();
    } else {
        c.effect = describe_infisical_json(*bytes);
        if (c.effect == "not a JSON object")
            c.unusable = make_error(ErrorCode::usage, "read " + path, "not a JSON object", "fix it or remove it");
    }
    return c;
}

std::optional<TrustCandidate> vault_candidate(const std::string& location, std::uint64_t now) {
    struct stat st {};
    if (::lstat(location.c_str(), &st) != 0) return std::nullopt;
    TrustCandidate c;
    c.shown = location;
    c.record.kind = TrustedKind::vault_link;
    c.record.path = vault_key(location);
    c.record.allowed_at = now;
    auto target = vault_outside_target(location);
    c.needed = target.has_value();
    c.record.target = target.value_or(c.record.path);
    c.effect = c.needed ? vault_effect(c.record.target) : "";
    return c;
}

bool is_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Status add_dir_candidates(const std::string& dir, std::uint64_t now, std::vector<TrustCandidate>& out) {
    std::string config = join(dir, ".ghostpod/config.json"), dotfile = join(dir, ".infisical.json");
    if (is_file(config)) {
        auto c = file_candidate(TrustedKind::config, config, now);
        if (!c) return std::move(c).error();
        out.push_back(std::move(*c));
    }
    if (auto v = vault_candidate(join(dir, ".ghostpod/vault"), now)) out.push_back(std::move(*v));
    if (is_file(dotfile)) {
        auto c = file_candidate(TrustedKind::infisical_json, dotfile, now);
        if (!c) return std::move(c).error();
        out.push_back(std::move(*c));
    }
    return {};
}

}  // namespace

const char* trust_state_name(TrustState state) {
    switch (state) {
        case TrustState::as_given: return "trusted as given";
        case TrustState::allowed: return "allowed";
        case TrustState::unknown: return "not allowed";
        case TrustState::changed: return "changed since allowed";
    }
    return "?";
}

std::string describe_config(const Config& config) {
    std::string out;
    const InfisicalConfig& i = config.infisical;
    if (i.present) {
        out += "pull from " + (i.host.empty() ? std::string("the default server") : i.host);
        if (!i.project_id.empty()) out += " (project " + i.project_id + (i.environment.empty() ? "" : ", " + i.environment) + ")";
        if (!i.cacert.empty()) out += " trusting the CA " + i.cacert;
    }
    const VaultConfig& v = config.vault;
    if (v.present) {
        std::string kv;
        for (const auto& p : v.kv) kv += (kv.empty() ? "" : ", ") + p;
        out += std::string(out.empty() ? "" : "; ") + "pull from Vault at " + (v.address.empty() ? std::string("VAULT_ADDR") : v.address);
        if (!kv.empty()) out += " (" + kv + ")";
        if (!v.cacert.empty()) out += " trusting the CA " + v.cacert;
        for (const auto& p : v.pki) out += "; have " + p.mount + "/sign/" + p.role + " sign a certificate for " + p.common_name;
    }
    std::string rest;
    append_mappings(rest, "map", config.secrets);
    append_mappings(rest, "map pulled", i.secrets);
    append_mappings(rest, "map pulled", v.secrets);
    if (!i.tfvars_path.empty()) rest += "; write " + i.tfvars_path;
    out += out.empty() && !rest.empty() ? rest.substr(2) : rest;
    if (!config.profiles.empty()) out += std::string(out.empty() ? "" : "; ") + std::to_string(config.profiles.size()) + " profile(s)";
    const SessionSettings& s = config.session;
    out += std::string(out.empty() ? "" : "; ") + "sessions last " + duration_text(s.ttl_seconds) + ", linger " +
           duration_text(s.linger_seconds) + (s.save_on_lock ? ", save on lock" : "");
    return out;
}

Error not_allowed(TrustedKind kind, const std::string& shown, const std::string& key, TrustState state, const std::string& effect) {
    std::string why = state == TrustState::changed ? "it changed since you allowed it" : "you have not allowed it";
    std::string what = kind == TrustedKind::vault_link ? "vault" : kind == TrustedKind::config ? "config" : "file";
    return make_error(ErrorCode::untrusted, "use " + shown,
                      "found by the search from the working directory, and " + why + "; it would " + effect,
                      "review it, then 'ghostpod allow " + key + "'; or name a " + what + " of yours with --" +
                          (kind == TrustedKind::vault_link ? "vault" : "config") + " (see ghostpod(1), TRUST)");
}

Result<TrustState> file_trust_state(TrustedKind kind, const std::string& real, std::span<const std::uint8_t> bytes) {
    auto record = find_trust_record(real);
    if (!record) return std::move(record).error();
    if (!*record || (*record)->kind != kind) return TrustState::unknown;
    return (*record)->sha256 == sha256_hex(bytes) ? TrustState::allowed : TrustState::changed;
}

Result<Config> load_trusted_config(const Located& where) {
    if (where.origin != "project") return load_config(where.path);
    auto bytes = read_file(where.path, kMaxFileBytes);
    if (!bytes) {
        if (bytes.error().errnum == ENOENT) return Config{};  // no file: the defaults need no allowing
        return std::move(bytes).error();
    }
    std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    std::string real = real_path(where.path).value_or(absolute(where.path));
    auto state = file_trust_state(TrustedKind::config, real, *bytes);
    if (!state) return std::move(state).error();
    if (*state != TrustState::allowed) {
        auto config = parse_config(text, where.path);
        return not_allowed(TrustedKind::config, where.path, real, *state,
                           config ? describe_config(*config) : "not even parse: " + config.error().describe());
    }
    return parse_config(text, where.path);
}

Status check_vault_trust(const Located& where) {
    if (where.origin != "project") return {};
    auto target = vault_outside_target(where.path);
    if (!target) return {};
    auto state = vault_state(where.path, *target);
    if (!state) return std::move(state).error();
    if (*state == TrustState::allowed) return {};
    return not_allowed(TrustedKind::vault_link, where.path, vault_key(where.path), *state, vault_effect(*target));
}

TrustState config_trust_state(const Located& where) {
    if (where.origin != "project") return TrustState::as_given;
    auto bytes = read_file(where.path, kMaxFileBytes);
    if (!bytes) return TrustState::as_given;  // nothing to allow
    auto state = file_trust_state(TrustedKind::config, real_path(where.path).value_or(absolute(where.path)), *bytes);
    return state ? *state : TrustState::unknown;
}

TrustState vault_trust_state(const Located& where) {
    if (where.origin != "project") return TrustState::as_given;
    auto target = vault_outside_target(where.path);
    if (!target) return TrustState::as_given;
    auto state = vault_state(where.path, *target);
    return state ? *state : TrustState::unknown;
}

Result<std::vector<TrustCandidate>> trust_candidates(const std::optional<std::string>& path, std::uint64_t now) {
    std::vector<TrustCandidate> out;
    if (!path) {
        if (auto root = find_project_root()) GP_TRY(add_dir_candidates(*root, now, out));
        // .infisical.json is searched on its own, like the official CLI does.
        char cwd[PATH_MAX];
        std::string dir = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
        for (;;) {
            std::string dotfile = join(dir, ".infisical.json");
            if (is_file(dotfile)) {
                bool listed = false;
                for (const auto& c : out) listed = listed || c.shown == dotfile;
                if (!listed) {
                    auto c = file_candidate(TrustedKind::infisical_json, dotfile, now);
                    if (!c) return std::move(c).error();
                    out.push_back(std::move(*c));
                }
                break;
            }
            if (dir == "/") break;
            dir = dir_of(dir);
        }
        return out;
    }
    std::string p = *path;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return sys_error("allow " + p);
    if (S_ISDIR(st.st_mode)) {
        GP_TRY(add_dir_candidates(p, now, out));
        return out;
    }
    if (base_of(p) == ".infisical.json") {
        auto c = file_candidate(TrustedKind::infisical_json, p, now);
        if (!c) return std::move(c).error();
        out.push_back(std::move(*c));
    } else if (project_of_vault(absolute(p)) || base_of(p) == "vault") {
        // A .ghostpod/vault (or a vault link named by hand): allowed by where it leads.
        if (auto v = vault_candidate(p, now)) out.push_back(std::move(*v));
    } else {
        auto c = file_candidate(TrustedKind::config, p, now);
        if (!c) return std::move(c).error();
        out.push_back(std::move(*c));
    }
    return out;
}

const char* record_state(const TrustRecord& r) {
    if (r.kind == TrustedKind::vault_link) {
        struct stat st {};
        if (::lstat(r.path.c_str(), &st) != 0) return "missing";
        auto target = vault_outside_target(r.path);
        return target && *target == r.target ? "allowed" : "changed";
    }
    auto bytes = read_file(r.path, kMaxFileBytes);
    if (!bytes) return "missing";
    return sha256_hex(*bytes) == r.sha256 ? "allowed" : "changed";
}

}  // namespace ghostpod
