// The launcher side of sessions, shared by run, shell, enter and pull: the options they take,
// and joining the vault's session or starting one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pod/cli/args.hpp"
#include "pod/unlock/config.hpp"
#include "pod/session/client.hpp"

namespace ghostpod {

struct SessionOptions {
    std::string command;  // for messages
    bool config_loaded = false;  // settings, config and profile are read (load_session_config)
    bool start_settings_resolved = false;  // pull_settings resolved (resolve_start_settings)
    std::optional<std::uint64_t> ttl_seconds, linger_seconds;  // --ttl, --linger
    SessionSettings settings;
    Config config;
    std::string config_path;
    bool config_named = false;  // by --config or GHOSTPOD_CONFIG (trusted as given), not found by search
    bool explicit_lifetime = false;  // --ttl or --linger given
    bool may_start = true;
    std::optional<std::vector<std::string>> profile;  // the secrets a --profile may see
    std::string profile_name;
    std::string pull_settings;  // resolved Infisical settings (JSON) handed to a new session; may be empty
    bool mask = false;          // run --mask: secret values in the command's output concealed
};

struct JoinInfo {
    SessionPaths paths;
    bool started = false;                              // this command started the session
    std::function<void(const std::string&)> progress;  // told "unlocking …" before the KDF runs
};

// The options with the config read (its trust checked) and the pull settings resolved.
Result<SessionOptions> session_options(const Context& context, const ParsedArgs& args, const std::string& command);
// The options of a command that joins (run, shell, enter): no config is read (the session's
// settings come with the attach answer) unless --profile names one of its profiles; the config
// and the pull settings (whose checks load the network module) are read when join_or_start
// starts a session.
Result<SessionOptions> join_options(const Context& context, const ParsedArgs& args, const std::string& command);
// Reads the config into `o` (once): settings with --ttl/--linger applied, profile.
Status load_session_config(const Context& context, SessionOptions& o);
// The pull settings a new session is handed (once).
void resolve_start_settings(SessionOptions& o);
// Joins the vault's session, starting one (unlock, ghost, materialise) when none runs; resolves
// the pull settings first when it starts one.
Result<Attachment> join_or_start(const Context& context, SessionOptions& options, JoinInfo& info);
}  // namespace ghostpod
