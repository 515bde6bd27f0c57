// pull: unlock, open the ghost, pull from Infisical and Vault into it, then a shell or one
// command (or leave the session running). In a running session it refreshes the pulled secrets
// and says what changed; only a command after -- is run then (a shell never is: in a script, it
// would read the rest of the script).
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "pod/commands/commands.hpp"
#include "pod/cli/args.hpp"
#include "pod/cli/messages.hpp"
#include "pod/formats/text.hpp"
#include "pod/infisical/pull_settings.hpp"
#include "pod/net/http.hpp"
#include "pod/session/command.hpp"
#include "pod/session/launcher.hpp"
#include "pod/session/requests.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

// One line on the terminal that rewrites itself: the unlock, then the pull's steps. Only when
// stderr is a terminal and not --quiet; without one, a retry's notice is a line of its own.
class StatusLine {
public:
    explicit StatusLine(bool enabled, bool notices) : enabled_(enabled), notices_(notices) {}
    ~StatusLine() { clear(); }
    void show(const std::string& text) {
        if (!enabled_ && notices_ && is_retry_notice(text)) note(text);
        if (!enabled_) return;
        (void)write_all(STDERR_FILENO, text_bytes("\r\033[Kghostpod: " + text + "…"), "write the status line");
        shown_ = true;
    }
    void clear() {
        if (!shown_) return;
        (void)write_all(STDERR_FILENO, text_bytes("\r\033[K"), "clear the status line");
        shown_ = false;
    }

private:
    bool enabled_, notices_;
    bool shown_ = false;
};

// "2 added (A, B), 1 changed (C), 0 removed": names, at most a few of each.
std::string describe_changes(const protocol::Pulled& p) {
    auto part = [](std::size_t n, const char* what, const std::vector<std::string>& names) {
        std::string text = std::to_string(n) + " " + what;
        if (names.empty()) return text;
        constexpr std::size_t kShown = 10;
        text += " (";
        for (std::size_t i = 0; i < names.size() && i < kShown; ++i) text += (i ? ", " : "") + printable(names[i], 120);
        return text + (names.size() > kShown ? ", …)" : ")");
    };
    return part(p.added.size(), "added", p.added) + ", " + part(p.changed.size(), "changed", p.changed) + ", " +
           part(p.removed.size(), "removed", p.removed);
}

// What the pull did: --json (names and counts, never values, with where from), a refresh's
// "refreshed: …" line, or the first pull's note on a terminal.
void show_pull(const ParsedArgs& args, const PullSettings& settings, const protocol::Pulled& answer, bool started) {
    bool quiet = args.has("--quiet") || args.has("-q");
    for (const auto& w : answer.warnings) warn(w);
    std::string from = settings.infisical ? settings.target.base_url + " (" + settings.target.environment + ")" : "";
    if (settings.vault) from += (from.empty() ? "" : " and ") + describe_vault_source(*settings.vault);
    if (args.has("--json")) {
        nlohmann::json result = {{"secrets", answer.secrets},   {"source", answer.source},   {"fetched", answer.fetched},
                                 {"warnings", answer.warnings}, {"from", from},              {"session_started", started},
                                 {"added", answer.added},       {"changed", answer.changed}, {"removed", answer.removed}};
        if (settings.infisical) {
            result["host"] = settings.target.base_url;
            result["environment"] = settings.target.environment;
        }
        print_stdout(result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    } else if (!started && !quiet) {
        print_stdout("refreshed: " + describe_changes(answer) + "\n");
    } else if (!quiet && ::isatty(STDERR_FILENO)) {
        note("pulled " + std::to_string(answer.secrets) + " secrets from " + from +
             (answer.source == "cache" ? " via the offline cache" : ""));
    }
}

}  // namespace

int cmd_pull(Context& context, const ParsedArgs& args) {
    bool no_shell = args.has("--no-shell");
    bool quiet = args.has("--quiet") || args.has("-q");
    if (no_shell && !args.positional.empty()) return report(usage_error("pull", "--no-shell takes no command"));
    if (no_shell && args.has("--profile")) return report(usage_error("pull", "--profile applies to a command or shell"));
    auto options = session_options(context, args, "pull");
    if (!options) return report(options.error());
    PullOverrides overrides;
    overrides.cacert = args.value("--cacert");
    overrides.environment = args.value("--env");
    overrides.offline = args.has("--offline");
    overrides.keep = no_shell;
    auto settings = resolve_pull_settings(options->config, options->config_path, overrides);
    if (!settings) return report(settings.error());

    for (const auto& n : settings->notes) warn(n);
    options->pull_settings = pull_settings_json(*settings);
    StatusLine line(!quiet && ::isatty(STDERR_FILENO), !quiet);
    auto progress = [&](const std::string& text) { line.show(text); };
    // A running session and no command: only a refresh, asked of the holder directly (no attach,
    // whose answer lists every secret; no shell, which in a script would read the rest of it).
    if (args.positional.empty()) {
        auto paths = session_paths_for(context);
        if (!paths) return report(paths.error());
        if (args.has("--profile") && connect_session(*paths))
            return report(usage_error("pull", "--profile applies to a command after --: in a running session pull only refreshes"));
        auto answer = request_pull(*paths, options->pull_settings, progress);
        line.clear();
        if (answer) {
            show_pull(args, *settings, *answer, false);
            return 0;
        }
        if (!no_session_running(answer.error())) return report(answer.error());
    }
    JoinInfo info;
    info.progress = progress;
    auto attachment = join_or_start(context, *options, info);
    if (!attachment) {
        line.clear();
        return report(attachment.error());
    }
    auto answer = request_pull(info.paths, options->pull_settings, info.progress);
    line.clear();
    if (!answer) {
        // A session this command opened only to pull into is of no use without the pull.
        if (info.started) {
            attachment->connection.reset();
            (void)request<protocol::Locked>(info.paths, protocol::LockRequest{});
        }
        return report(answer.error());
    }
    show_pull(args, *settings, *answer, info.started);
    // The holder looked at the files that changed for expiring certificates (in the warnings).
    if (no_shell) {
        if (!quiet && info.started) note("the session stays up: 'ghostpod enter' joins it, 'ghostpod lock' ends it");
        return 0;
    }
    // A session that started meanwhile (no command: the shell of a first pull) is only refreshed.
    if (!info.started && args.positional.empty()) return 0;
    // The pull added files, paths and variables: attach again to see them (then let go of the
    // first attachment, so the session never has no client in between).
    auto fresh = attach(info.paths);
    if (!fresh) return report(fresh.error());
    fresh->vault_path = attachment->vault_path;
    fresh->config_path = attachment->config_path;
    *attachment = std::move(*fresh);
    if (!args.positional.empty()) return run_attached(*attachment, args.positional, *options);
    return run_attached(*attachment, {user_shell()}, *options);
}

}  // namespace ghostpod
