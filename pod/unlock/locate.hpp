// Where the vault and the config are: --vault/--config, then GHOSTPOD_VAULT/GHOSTPOD_CONFIG,
// then .ghostpod/ found upward from the working directory (like .git), then the user's own
// $XDG_DATA_HOME/ghostpod/vault and $XDG_CONFIG_HOME/ghostpod/config.json.
#pragma once

#include <optional>
#include <string>

namespace ghostpod {

struct Located {
    std::string path;
    std::string origin;  // "--vault", "GHOSTPOD_VAULT", "project", "user"
};

struct PathOptions {
    std::optional<std::string> vault;
    std::optional<std::string> config;
};

// The nearest directory at or above the working directory that holds a .ghostpod directory.
std::optional<std::string> find_project_root();
Located locate_vault(const PathOptions& options);
Located locate_config(const PathOptions& options);
// The config named by --config or GHOSTPOD_CONFIG, without the search locate_config goes on to.
std::optional<Located> named_config(const PathOptions& options);
std::string user_vault_path();
std::string user_config_path();
// Creates every missing directory of `path`'s parent with mode 0700. Returns false (errno set).
bool make_parent_dirs(const std::string& path);

}  // namespace ghostpod
