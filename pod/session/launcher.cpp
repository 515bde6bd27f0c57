// The launcher side of a session: the options every session command shares, and joining the
// vault's session or starting one (unlock, ghost, materialise) when none runs.
#include "pod/session/launcher.hpp"

#include <algorithm>

#include "pod/cli/messages.hpp"
#include "pod/infisical/pull_settings.hpp"
#include "pod/session/client.hpp"
#include "pod/session/holder.hpp"
#include "pod/unlock/trust.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/store.hpp"

namespace ghostpod {

Result<SessionOptions> session_options(const Context& context, const ParsedArgs& args, const std::string& command) {
    SessionOptions o;
    Located where = locate_config(context.paths);
    o.config_path = where.path;
    auto config = load_trusted_config(where);  // a repository's config only once allowed (exit 8)
    if (!config) return std::move(config).error();
    o.settings = config->session;
    o.config = *config;
    for (const char* name : {"--ttl", "--linger"}) {
        if (auto text = args.value(name)) {
            auto seconds = parse_duration(*text);
            if (!seconds) return usage_error(command, std::string(name) + " expects a duration like 90s, 15m, 8h");
            (std::string(name) == "--ttl" ? o.settings.ttl_seconds : o.settings.linger_seconds) = *seconds;
            o.explicit_lifetime = true;
        }
    }
    // A session started by run or shell may be refreshed by a later 'pull' from the same server.
    if (auto pull = resolve_pull_settings(o.config, o.config_path, {})) o.pull_settings = pull_settings_json(*pull);
    if (o.settings.ttl_seconds == 0) return usage_error(command, "the TTL (--ttl or session.ttl) must be longer than 0");
    if (auto name = args.value("--profile")) {
        auto it = config->profiles.find(*name);
        if (it == config->profiles.end()) {
            std::string known;
            for (const auto& [p, list] : config->profiles) known += (known.empty() ? "" : ", ") + p;
            return make_error(ErrorCode::usage, command + " --profile " + *name, "no such profile in the config",
                              known.empty() ? "define profiles in the config; see ghostpod-config(5)" : "known profiles: " + known);
        }
        o.profile = it->second;
    }
    return o;
}

Result<Attachment> join_or_start(const Context& context, const SessionOptions& options, JoinInfo& info) {
    auto vault_path = existing_vault_path(context);
    if (!vault_path) return std::move(vault_path).error();
    auto paths = session_paths(*vault_path);
    if (!paths) return std::move(paths).error();
    info.paths = *paths;
    auto joined = attach(*paths);
    if (joined) joined->vault_path = *vault_path;
    if (joined && options.explicit_lifetime) warn("a session is already running: --ttl and --linger apply only to a new one");
    if (joined || joined.error().code != ErrorCode::session || !options.may_start) return joined;
    // Two commands starting at once must not start two holders: the second waits here and
    // then joins the first one's session.
    auto starting = VaultLock::acquire(paths->runtime_dir + "/session-start");
    if (!starting) return std::move(starting).error();
    joined = attach(*paths);
    if (joined) joined->vault_path = *vault_path;
    if (joined || joined.error().code != ErrorCode::session) return joined;
    // The holder unlocks: a wrong passphrase typed on the terminal is asked again (a new holder).
    GP_TRY(with_credential(context, *vault_path, [&](HeldCredential& credential) -> Status {
        if (info.progress) info.progress("unlocking " + *vault_path + " (Argon2id)");
        return start_session(*vault_path, options.config_path, std::move(credential), options.settings, *paths, options.pull_settings);
    }));
    info.started = true;
    joined = attach(*paths);
    if (joined) {
        joined->vault_path = *vault_path;
        for (const auto& [name, mapping] : options.config.secrets)
            if (std::find(joined->secrets.begin(), joined->secrets.end(), name) == joined->secrets.end())
                warn("the config maps '" + name + "', which is not in the vault");
    }
    return joined;
}

}  // namespace ghostpod
