// shell and enter: an interactive shell in the ghost; enter only joins a running session.
#include <cstdlib>
#include <cstring>

#include "pod/cli/messages.hpp"
#include "pod/commands/commands.hpp"
#include "pod/session/command.hpp"
#include "pod/session/launcher.hpp"
#include "pod/session/requests.hpp"

namespace ghostpod {
namespace {

// The shell's prompt starts with "(ghostpod:VAULT[/PROFILE]) " unless session.prompt is false or
// GHOSTPOD_PROMPT=0. bash reads its rc files after the environment and they set PS1, so bash
// gets a PROMPT_COMMAND that puts the mark in front of whatever PS1 the rc files left (once;
// an rc file that appends to PROMPT_COMMAND keeps it). Other shells get PS1 (dash and zsh take
// it from the environment; a ~/.zshrc that sets PROMPT replaces it). The names are the
// marker's, reduced to [A-Za-z0-9._+@-]: nothing in them is expanded by the shell.
std::vector<ExtraVariable> prompt_variables(const Attachment& a, const std::string& shell) {
    const char* opt_out = std::getenv("GHOSTPOD_PROMPT");
    if (!a.prompt || (opt_out && std::strcmp(opt_out, "0") == 0)) return {};
    MarkerNames names = marker_names(a);
    std::string mark = "(ghostpod:" + names.vault + (names.profile == "*" ? "" : "/" + names.profile) + ") ";
    std::string name = shell.substr(shell.find_last_of('/') + 1);
    if (name == "bash")
        return {{"PROMPT_COMMAND", "case \"$PS1\" in \"" + mark + "\"*) ;; *) PS1=\"" + mark + "$PS1\" ;; esac"}};
    return {{"PS1", mark + (name == "zsh" ? "%m%# " : "$ ")}};
}

int open_shell(Context& context, const ParsedArgs& args, const std::string& command, bool may_start) {
    if (!args.positional.empty()) return report(usage_error(command, "takes no arguments"));
    auto options = join_options(context, args, command);
    if (!options) return report(options.error());
    options->may_start = may_start;
    JoinInfo info;
    auto attachment = join_or_start(context, *options, info);
    if (!attachment) return report(attachment.error());
    warn_expiring_certificates(info.paths);
    std::string shell = user_shell();
    // The mark names the view the shell gets: a --profile narrows it in run_attached.
    Attachment& a = *attachment;
    std::string narrowed = a.profile;
    if (options->profile) a.profile = options->profile_name;
    auto extra = prompt_variables(a, shell);
    a.profile = narrowed;
    return run_attached(a, {shell}, *options, extra);
}

}  // namespace

int cmd_shell(Context& context, const ParsedArgs& args) { return open_shell(context, args, "shell", true); }
int cmd_enter(Context& context, const ParsedArgs& args) { return open_shell(context, args, "enter", false); }

}  // namespace ghostpod
