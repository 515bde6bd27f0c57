// What a config value may be, so that a config (a file in a repository) cannot be turned into
// code in the ghost: which variables a mapping may set, which paths a secret may appear at, and
// the one cap on every duration. ghostpod-config(5) writes the same rules down.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ghostpod {

// Every duration, from a string ("8h") or an integer (seconds), from the config or an option.
inline constexpr std::uint64_t kMaxDurationSeconds = 366ull * 86400;

// Why a mapping may not set variable `name`, or nullopt when it may. Refused: variables a
// shell, the dynamic loader, an interpreter or a common tool reads as code, as a command to
// run, as a place to load code or configuration from, or as its home (see the tables in
// config_rules.cpp). Compared case-insensitively: npm reads npm_config_*.
std::optional<std::string> refused_variable(std::string_view name);

// Why `path` may not be a mapped path in the ghost, or nullopt when it may: it must be absolute
// or start with ~/, with plain components (no "", ".", ".."), no ':' and no control character,
// and must not lie under a system directory (/proc, /sys, /dev, /etc, /usr, ...) nor be a
// shell's start-up file in the home directory (~/ or `home_dir`).
std::optional<std::string> refused_ghost_path(std::string_view path, std::string_view home_dir);

// Why `entry` may not be an item of session.pass_env, or nullopt when it may: a variable name,
// or a prefix ending in '_' followed by '*' ("KUBE_*"), which refused_variable does not refuse
// as a prefix (so "LD_*", "GHOSTPOD_*", "*" and "L*" are refused). A pattern's matches are
// checked one by one again when a command starts (pass_env_allows).
std::optional<std::string> refused_pass_env(std::string_view entry);
// Whether `name` from the caller's environment passes by `entry` (a name or "PREFIX_*"), and
// refused_variable lets it: a pattern never lets a refused variable through.
bool pass_env_allows(std::string_view entry, std::string_view name);

// "90", "90s", "15m", "8h", "2d" → seconds, at most kMaxDurationSeconds.
std::optional<std::uint64_t> parse_duration(const std::string& text);

}  // namespace ghostpod
