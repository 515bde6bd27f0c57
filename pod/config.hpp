// The project or user config (.ghostpod/config.json): no secrets, safe to commit.
// man/ghostpod-config.5 documents every key.
#pragma once

#include <string>

#include "vault/result.hpp"

namespace ghostpod {

inline constexpr int kConfigVersion = 1;

struct Config {
    bool found = false;  // false: no file, defaults apply
    int version = kConfigVersion;
};

// A missing file is not an error (defaults apply); malformed JSON or an unknown version is.
Result<Config> load_config(const std::string& path);
// The config and .gitignore that 'init' writes into a new .ghostpod directory, each only if missing.
Status write_project_scaffold(const std::string& ghostpod_dir);

}  // namespace ghostpod
