// The key readers of config.cpp, for the files that read one section each (config_vault.cpp):
// one wording of every config error, one rule for mappings and durations.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "pod/unlock/config.hpp"

namespace ghostpod {

// Reads the "vault" section (config_vault.cpp).
Status read_vault_section(const nlohmann::json& j, VaultConfig& c, const std::string& path);

namespace config_readers {
// ErrorCode::usage: "read config PATH: "KEY": WHY", with the hint to ghostpod-config(5).
Error bad_key(const std::string& path, const std::string& key, const std::string& why);
// {"path": …, "env": …, "env_value": …} with the rules of the top-level "secrets".
Result<SecretMapping> read_mapping(const nlohmann::json& m, const std::string& key, const std::string& path);
// "90s", "15m", "8h" or seconds, as `prefix` + `key`.
Status read_duration(const nlohmann::json& j, const char* key, std::uint64_t& out, const std::string& path,
                     const std::string& prefix);
// `prefix` + "refresh": a duration of at least kMinRefreshSeconds.
Status read_refresh(const nlohmann::json& j, std::uint64_t& out, const std::string& path, const std::string& prefix);
}  // namespace config_readers

}  // namespace ghostpod
