#include "pod/unlock/locate.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace ghostpod {
namespace {

std::string env_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

std::string home_dir() {
    std::string home = env_or_empty("HOME");
    return home.empty() ? "/" : home;
}

bool is_dir(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::optional<std::string> find_project_root() {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return std::nullopt;
    std::string dir = cwd;
    for (;;) {
        if (is_dir(dir + (dir == "/" ? "" : "/") + ".ghostpod")) return dir;
        if (dir == "/") return std::nullopt;
        auto slash = dir.rfind('/');
        dir = slash == 0 ? "/" : dir.substr(0, slash);
    }
}

std::string user_vault_path() {
    std::string base = env_or_empty("XDG_DATA_HOME");
    if (base.empty()) base = home_dir() + "/.local/share";
    return base + "/ghostpod/vault";
}

std::string user_config_path() {
    std::string base = env_or_empty("XDG_CONFIG_HOME");
    if (base.empty()) base = home_dir() + "/.config";
    return base + "/ghostpod/config.json";
}

Located locate_vault(const PathOptions& options) {
    if (options.vault) return {*options.vault, "--vault"};
    if (auto env = env_or_empty("GHOSTPOD_VAULT"); !env.empty()) return {env, "GHOSTPOD_VAULT"};
    if (auto root = find_project_root()) return {(*root == "/" ? "" : *root) + "/.ghostpod/vault", "project"};
    return {user_vault_path(), "user"};
}

std::optional<Located> named_config(const PathOptions& options) {
    if (options.config) return Located{*options.config, "--config"};
    if (auto env = env_or_empty("GHOSTPOD_CONFIG"); !env.empty()) return Located{env, "GHOSTPOD_CONFIG"};
    return std::nullopt;
}

Located locate_config(const PathOptions& options) {
    if (auto named = named_config(options)) return *named;
    if (auto root = find_project_root()) return {(*root == "/" ? "" : *root) + "/.ghostpod/config.json", "project"};
    return {user_config_path(), "user"};
}

bool make_parent_dirs(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return true;
    std::string parent = path.substr(0, slash);
    if (is_dir(parent)) return true;
    if (!make_parent_dirs(parent)) return false;
    if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) return false;
    return true;
}

}  // namespace ghostpod
