// The launcher side of a session: the options every session command shares, and joining the
// vault's session or starting one (unlock, ghost, materialise) when none runs.
#include "pod/session/launcher.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "pod/cli/messages.hpp"
#include "pod/cli/program.hpp"
#include "pod/infisical/pull_settings.hpp"
#include "pod/session/client.hpp"
#include "pod/session/holder.hpp"
#include "pod/unlock/trust.hpp"
#include "pod/unlock/unlock.hpp"
#include "sandbox/landlock.hpp"
#include "vault/store.hpp"

namespace ghostpod {

Result<SessionOptions> join_options(const Context& context, const ParsedArgs& args, const std::string& command) {
    SessionOptions o;
    o.command = command;
    for (const char* name : {"--ttl", "--linger"}) {
        if (auto text = args.value(name)) {
            auto seconds = parse_duration(*text);
            if (!seconds) return usage_error(command, std::string(name) + " expects a duration like 90s, 15m, 8h");
            (std::string(name) == "--ttl" ? o.ttl_seconds : o.linger_seconds) = *seconds;
            o.explicit_lifetime = true;
        }
    }
    // A join reads no config: the session's settings (pass_env, prompt) come with the attach
    // answer, kept from the config that started it. Only --profile reads one, for its profiles;
    // join_or_start reads it when it starts a session. A config named explicitly (--config,
    // GHOSTPOD_CONFIG) is still noted, for GHOSTPOD_CONFIG inside.
    if (auto name = args.value("--profile")) {
        o.profile_name = *name;
        GP_TRY(load_session_config(context, o));
    } else if (auto named = named_config(context.paths)) {
        o.config_path = named->path;
        o.config_named = true;
    }
    return o;
}

Result<SessionOptions> session_options(const Context& context, const ParsedArgs& args, const std::string& command) {
    auto o = join_options(context, args, command);
    if (!o) return o;
    GP_TRY(load_session_config(context, *o));
    resolve_start_settings(*o);
    return o;
}

Status load_session_config(const Context& context, SessionOptions& o) {
    if (o.config_loaded) return {};
    Located where = locate_config(context.paths);
    o.config_path = where.path;
    o.config_named = where.origin == "--config" || where.origin == "GHOSTPOD_CONFIG";
    auto config = load_trusted_config(where);  // a repository's config only once allowed (exit 8)
    if (!config) return std::move(config).error();
    o.settings = config->session;
    o.config = *config;
    if (o.ttl_seconds) o.settings.ttl_seconds = *o.ttl_seconds;
    if (o.linger_seconds) o.settings.linger_seconds = *o.linger_seconds;
    if (o.settings.ttl_seconds == 0) return usage_error(o.command, "the TTL (--ttl or session.ttl) must be longer than 0");
    if (!o.profile_name.empty()) {
        auto it = config->profiles.find(o.profile_name);
        if (it == config->profiles.end()) {
            std::string known;
            for (const auto& [p, list] : config->profiles) known += (known.empty() ? "" : ", ") + p;
            return make_error(ErrorCode::usage, o.command + " --profile " + o.profile_name, "no such profile in the config",
                              known.empty() ? "define profiles in the config; see ghostpod-config(5)" : "known profiles: " + known);
        }
        o.profile = it->second;
    }
    o.config_loaded = true;
    return {};
}

void resolve_start_settings(SessionOptions& o) {
    if (o.start_settings_resolved) return;
    // A session started by run or shell may be refreshed by a later 'pull' from the same server.
    if (auto pull = resolve_pull_settings(o.config, o.config_path, {})) o.pull_settings = pull_settings_json(*pull);
    o.start_settings_resolved = true;
}

Result<Attachment> join_or_start(const Context& context, SessionOptions& options, JoinInfo& info) {
    auto vault_path = existing_vault_path(context);
    if (!vault_path) return std::move(vault_path).error();
    auto paths = session_paths(*vault_path);
    if (!paths) return std::move(paths).error();
    info.paths = *paths;
    // What commands in the ghost need to find this session and config again (GHOSTPOD_*).
    auto found = [&](Result<Attachment>& a) {
        if (!a) return;
        a->vault_path = *vault_path;
        // Only a config named explicitly: one found by the search is found (and its trust checked)
        // again by the command inside, which a name would skip.
        std::error_code ec;
        if (options.config_named && ::access(options.config_path.c_str(), F_OK) == 0)
            a->config_path = std::filesystem::absolute(options.config_path, ec);
    };
    auto joined = attach(*paths);
    found(joined);
    if (joined && options.explicit_lifetime) warn("a session is already running: --ttl and --linger apply only to a new one");
    bool starts = !joined && no_session_running(joined.error()) && options.may_start;
    // The front starts no session: the full program does, with this command's argv and
    // environment as they came (nothing has been read or changed yet).
    if (starts) hand_over_if_front("start a session");
    // The INFISICAL_* credentials leave this process's environment before anything else is
    // done: a new holder gets them by handoff, and no client (nor a command it forks) keeps a
    // copy. (Nothing before forks or execs but the hand-over, which must pass them on.)
    SessionCredentials credentials;
    take_infisical_environment(credentials);
    if (!starts) return joined;
    // Only a new session needs the pull settings it is handed.
    GP_TRY(load_session_config(context, options));
    resolve_start_settings(options);
    // Two commands starting at once must not start two holders: the second waits here and
    // then joins the first one's session.
    auto starting = VaultLock::acquire(paths->runtime_dir + "/session-start");
    if (!starting) return std::move(starting).error();
    joined = attach(*paths);
    found(joined);
    if (joined || !no_session_running(joined.error())) return joined;
    // The holder unlocks: a wrong passphrase typed on the terminal is asked again (a new
    // holder each try). Each try hands its holder its own copy of the INFISICAL_* values.
    GP_TRY(with_credential(context, *vault_path, [&](HeldCredential& credential) -> Status {
        SessionCredentials attempt;
        attempt.unlock = std::move(credential);
        for (auto [from, to] : {std::pair{&credentials.client_id, &attempt.client_id}, std::pair{&credentials.client_secret, &attempt.client_secret},
                                std::pair{&credentials.token, &attempt.token}}) {
            if (from->empty()) continue;
            auto copy = SecretBuffer::copy_of(from->bytes());
            if (!copy) return std::move(copy).error();
            *to = std::move(*copy);
        }
        if (info.progress) info.progress("unlocking " + *vault_path + " (Argon2id)");
        return start_session(*vault_path, options.config_path, std::move(attempt), options.settings, *paths, options.pull_settings);
    }));
    credentials = SessionCredentials{};  // wiped: only the holder has them now
    info.started = true;
    if (sandbox::landlock_abi() == 0)
        warn("this kernel offers no Landlock: commands in the ghost can read and write each other's memory");
    joined = attach(*paths);
    found(joined);
    if (joined) {
        for (const auto& [name, mapping] : options.config.secrets)
            if (std::find(joined->secrets.begin(), joined->secrets.end(), name) == joined->secrets.end())
                warn("the config maps '" + name + "', which is not in the vault");
    }
    return joined;
}

}  // namespace ghostpod
