#include "pod/infisical/pull_settings.hpp"
#include "pod/formats/text.hpp"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "pod/unlock/identity_pin.hpp"
#include "pod/unlock/trust.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

using nlohmann::json;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// .infisical.json, searched from the working directory upward like the official CLI does.
std::optional<std::string> find_upward(const std::string& name) {
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) return std::nullopt;
    std::string dir = cwd;
    for (;;) {
        std::string candidate = (dir == "/" ? "" : dir) + "/" + name;
        if (::access(candidate.c_str(), R_OK) == 0) return candidate;
        if (dir == "/") return std::nullopt;
        dir = dir_of(dir);
    }
}

// The checked-out branch, read from .git/HEAD (no git binary needed).
std::optional<std::string> git_branch(const std::string& start_dir) {
    std::string dir = start_dir;
    for (;;) {
        auto head = read_file((dir == "/" ? "" : dir) + "/.git/HEAD", 4096);
        if (head) {
            std::string text(head->begin(), head->end());
            const std::string prefix = "ref: refs/heads/";
            if (text.rfind(prefix, 0) != 0) return std::nullopt;
            text = text.substr(prefix.size());
            while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
            return text;
        }
        if (dir == "/") return std::nullopt;
        dir = dir_of(dir);
    }
}

struct InfisicalJson {
    std::string path;
    std::string workspace_id, default_environment, default_path, domain, branch_environment;
    std::string real_path;
    TrustState trust = TrustState::unknown;  // found by the search: used only once allowed
};

Result<InfisicalJson> read_infisical_json() {
    InfisicalJson out;
    auto path = find_upward(".infisical.json");
    if (!path) return out;
    out.path = *path;
    auto bytes = read_file(*path, 1 << 20);
    if (!bytes) return std::move(bytes).error();
    char resolved[PATH_MAX];
    out.real_path = ::realpath(path->c_str(), resolved) ? resolved : *path;
    auto trust = file_trust_state(TrustedKind::infisical_json, out.real_path, *bytes);
    if (!trust) return std::move(trust).error();
    out.trust = *trust;
    json j = json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return make_error(ErrorCode::usage, "read " + *path, "not a JSON object", "fix it or remove it");
    auto str = [&](const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string(); };
    out.workspace_id = str("workspaceId");
    out.default_environment = str("defaultEnvironment");
    out.default_path = str("defaultSecretPath");
    out.domain = str("domain");
    if (auto m = j.find("gitBranchToEnvironmentMapping"); m != j.end() && m->is_object()) {
        if (auto branch = git_branch(dir_of(*path))) {
            if (auto e = m->find(*branch); e != m->end() && e->is_string()) out.branch_environment = e->get<std::string>();
        }
    }
    return out;
}

std::string expand_home(const std::string& path, const std::string& home) {
    return path.rfind("~/", 0) == 0 ? home + path.substr(1) : path;
}

}  // namespace

std::vector<std::string> parse_custom_headers(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find(' ', pos);
        std::string pair = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        pos = end == std::string::npos ? text.size() : end + 1;
        auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        std::string name = pair.substr(0, eq);
        if (name.find_first_of(":\r\n") != std::string::npos) continue;
        // Headers ghostpod sets itself; an Authorization header would also turn a login into a 403.
        std::string lower;
        for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "authorization" || lower == "host" || lower == "content-type" || lower == "content-length" ||
            lower == "accept" || lower == "transfer-encoding" || lower == "cookie")
            continue;
        std::string value = pair.substr(eq + 1);
        if (value.find_first_of("\r\n") != std::string::npos) continue;
        out.push_back(name + ": " + value);
    }
    return out;
}

Result<PullSettings> resolve_pull_settings(const Config& config, const std::string& config_path, const PullOverrides& o) {
    PullSettings s;
    const InfisicalConfig& c = config.infisical;
    auto dotfile = read_infisical_json();
    if (!dotfile) return std::move(dotfile).error();
    const char* home = std::getenv("HOME");
    s.home = home && *home ? home : "/";

    // What a .infisical.json sets that nothing above it does: it is used only once allowed.
    std::vector<std::string> from_dotfile;
    std::string host = env("INFISICAL_DOMAIN"), host_key = "INFISICAL_DOMAIN";
    if (host.empty()) host = env("INFISICAL_API_URL"), host_key = "INFISICAL_API_URL";
    if (host.empty()) host = c.host, host_key = "infisical.host in " + config_path;
    if (host.empty() && !dotfile->domain.empty()) {
        // The host decides where the vault's client secret goes: a .infisical.json picked up from
        // the working directory (a cloned repository) may name it only for the project whose
        // .ghostpod/config.json is in use.
        std::string project = config_path.ends_with("/.ghostpod/config.json") ? dir_of(dir_of(config_path)) : "";
        if (!project.empty() && dir_of(dotfile->path) == project) {
            host = dotfile->domain, host_key = "domain in " + dotfile->path;
            from_dotfile.push_back("send the vault's identity to " + host);
        } else s.notes.push_back("ignored \"domain\" in " + dotfile->path + ": it is not the project of " + config_path +
                               "; set infisical.host in the config to use that server");
    }
    if (host.empty()) host = kDefaultInfisicalHost, host_key = "the default";
    s.target.base_url = normalise_base_url(host);
    GP_TRY(check_transport(s.target.base_url, host_key));

    s.target.project_id = env("INFISICAL_PROJECT_ID");
    if (s.target.project_id.empty()) s.target.project_id = c.project_id;
    if (s.target.project_id.empty() && !dotfile->workspace_id.empty()) {
        s.target.project_id = dotfile->workspace_id;
        from_dotfile.push_back("pull the project " + s.target.project_id);
    }
    auto vault = resolve_vault_settings(config, config_path, s.notes);
    if (!vault) return std::move(vault).error();
    s.vault = std::move(*vault);
    if (s.target.project_id.empty()) {
        // A project pulling from Vault alone: Infisical is no source, unless its section is there.
        if (s.vault && !c.present) s.infisical = false;
        else
            return make_error(ErrorCode::usage, "pull", "no Infisical project is configured",
                              "set infisical.project_id in " + config_path +
                                  " (or workspaceId in .infisical.json, or INFISICAL_PROJECT_ID), or configure a "
                                  "\"vault\" source; see ghostpod-config(5)");
    }

    if (o.environment) s.target.environment = *o.environment;
    if (s.target.environment.empty()) s.target.environment = c.environment;
    if (s.target.environment.empty()) s.target.environment = dotfile->branch_environment;
    if (s.target.environment.empty()) s.target.environment = dotfile->default_environment;
    if (!s.target.environment.empty() && s.target.environment != c.environment && !o.environment)
        from_dotfile.push_back("choose the environment " + s.target.environment);
    if (s.target.environment.empty()) s.target.environment = "dev";

    s.target.paths = c.paths;
    if (s.target.paths.empty() && !dotfile->default_path.empty()) {
        s.target.paths = {dotfile->default_path};
        from_dotfile.push_back("pull the folder " + dotfile->default_path);
    }
    if (s.target.paths.empty()) s.target.paths = {"/"};
    if (!from_dotfile.empty() && dotfile->trust != TrustState::allowed) {
        std::string effect;
        for (const auto& e : from_dotfile) effect += (effect.empty() ? "" : ", ") + e;
        return not_allowed(TrustedKind::infisical_json, dotfile->path, dotfile->real_path, dotfile->trust, effect);
    }
    s.target.recursive = c.recursive.value_or(false);
    s.target.include_imports = c.include_imports.value_or(true);
    s.target.expand_references = c.expand_references.value_or(true);
    s.target.organization_slug = env("INFISICAL_AUTH_ORGANIZATION_SLUG");
    if (s.target.organization_slug.empty()) s.target.organization_slug = c.organization_slug;

    std::string cacert = o.cacert ? *o.cacert : c.cacert;
    if (!cacert.empty()) {
        // Relative to the config file when it came from there; to the working directory for --cacert.
        auto resolved = resolve_ca_file(cacert, s.home, o.cacert ? "." : dir_of(config_path), "--cacert (or infisical.cacert)");
        if (!resolved) return std::move(resolved).error();
        s.http.cacert = *resolved;
    }
    s.http.connect_timeout_ms = c.connect_timeout_seconds * 1000;
    s.http.request_timeout_ms = c.timeout_seconds * 1000;
    s.http.retry_budget_ms = c.retry_seconds * 1000;
    s.http.max_response_bytes = c.max_response_mib << 20;
    s.http.extra_headers = parse_custom_headers(env("INFISICAL_CUSTOM_HEADERS"));
    s.mappings = c.secrets;
    s.tfvars_path = c.tfvars_path.empty() ? "" : expand_home(c.tfvars_path, s.home);
    s.tfvars = c.tfvars;
    s.offline = o.offline;
    s.keep = o.keep;
    s.refresh_seconds = c.refresh_seconds;
    return s;
}

std::string pull_settings_json(const PullSettings& s) {
    json mappings = json::object();
    for (const auto& [key, m] : s.mappings) mappings[key] = {{"path", m.path}, {"env", m.env}, {"env_value", m.env_value}};
    json j = {{"base_url", s.target.base_url},
              {"project_id", s.target.project_id},
              {"environment", s.target.environment},
              {"paths", s.target.paths},
              {"recursive", s.target.recursive},
              {"include_imports", s.target.include_imports},
              {"expand_references", s.target.expand_references},
              {"organization_slug", s.target.organization_slug},
              {"cacert", s.http.cacert},
              {"connect_timeout_ms", s.http.connect_timeout_ms},
              {"request_timeout_ms", s.http.request_timeout_ms},
              {"retry_budget_ms", s.http.retry_budget_ms},
              {"max_response_bytes", s.http.max_response_bytes},
              {"headers", s.http.extra_headers},
              {"mappings", mappings},
              {"tfvars_path", s.tfvars_path},
              {"tfvars", s.tfvars},
              {"home", s.home},
              {"offline", s.offline},
              {"keep", s.keep},
              {"refresh_seconds", s.refresh_seconds},
              {"infisical", s.infisical},
              {"vault", s.vault ? vault_settings_to_json(*s.vault) : json(nullptr)}};
    return j.dump();
}

Result<PullSettings> parse_pull_settings(std::string_view text) {
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return make_error(ErrorCode::runtime, "read pull settings", "malformed");
    PullSettings s;
    try {
        s.target.base_url = j.at("base_url").get<std::string>();
        s.target.project_id = j.at("project_id").get<std::string>();
        s.target.environment = j.at("environment").get<std::string>();
        s.target.paths = j.at("paths").get<std::vector<std::string>>();
        s.target.recursive = j.at("recursive").get<bool>();
        s.target.include_imports = j.at("include_imports").get<bool>();
        s.target.expand_references = j.at("expand_references").get<bool>();
        s.target.organization_slug = j.at("organization_slug").get<std::string>();
        s.http.cacert = j.at("cacert").get<std::string>();
        s.http.connect_timeout_ms = j.at("connect_timeout_ms").get<std::uint64_t>();
        s.http.request_timeout_ms = j.at("request_timeout_ms").get<std::uint64_t>();
        s.http.retry_budget_ms = j.at("retry_budget_ms").get<std::uint64_t>();
        s.http.max_response_bytes = j.at("max_response_bytes").get<std::size_t>();
        s.http.extra_headers = j.at("headers").get<std::vector<std::string>>();
        for (auto& [key, m] : j.at("mappings").items())
            s.mappings[key] = {m.at("path").get<std::string>(), m.at("env").get<std::string>(), m.at("env_value").get<bool>()};
        s.tfvars_path = j.at("tfvars_path").get<std::string>();
        s.tfvars = j.at("tfvars").get<std::map<std::string, std::string>>();
        s.home = j.at("home").get<std::string>();
        s.offline = j.at("offline").get<bool>();
        s.keep = j.at("keep").get<bool>();
        s.refresh_seconds = j.at("refresh_seconds").get<std::uint64_t>();
        s.infisical = j.at("infisical").get<bool>();
        if (const json& v = j.at("vault"); !v.is_null()) {
            auto vault = vault_settings_from_json(v);
            if (!vault) return std::move(vault).error();
            s.vault = std::move(*vault);
        }
    } catch (const json::exception& e) {
        return make_error(ErrorCode::runtime, "read pull settings", e.what());
    }
    return s;
}

std::optional<SecretMapping> pulled_mapping_for(const PullSettings& s, const std::string& key) {
    if (auto it = s.mappings.find(key); it != s.mappings.end()) {
        if (it->second.path.empty() && it->second.env.empty()) return std::nullopt;  // {} turns a built-in off
        return it->second;
    }
    return builtin_pulled_mapping(key);
}

}  // namespace ghostpod
