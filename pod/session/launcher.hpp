// The launcher side of sessions, shared by run, shell, enter and pull: the options they take,
// and joining the vault's session or starting one.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pod/cli/args.hpp"
#include "pod/unlock/config.hpp"
#include "pod/session/client.hpp"

namespace ghostpod {

struct SessionOptions {
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

Result<SessionOptions> session_options(const Context& context, const ParsedArgs& args, const std::string& command);
// Joins the vault's session, starting one (unlock, ghost, materialise) when none runs.
Result<Attachment> join_or_start(const Context& context, const SessionOptions& options, JoinInfo& info);
}  // namespace ghostpod
