// shell and enter: an interactive shell in the ghost; enter only joins a running session.
#include "pod/cli/messages.hpp"
#include "pod/commands/commands.hpp"
#include "pod/session/command.hpp"
#include "pod/session/launcher.hpp"
#include "pod/session/requests.hpp"

namespace ghostpod {
namespace {

int open_shell(Context& context, const ParsedArgs& args, const std::string& command, bool may_start) {
    if (!args.positional.empty()) return report(usage_error(command, "takes no arguments"));
    auto options = session_options(context, args, command);
    if (!options) return report(options.error());
    options->may_start = may_start;
    JoinInfo info;
    auto attachment = join_or_start(context, *options, info);
    if (!attachment) return report(attachment.error());
    warn_expiring_certificates(info.paths);
    return run_attached(*attachment, {user_shell()}, *options);
}

}  // namespace

int cmd_shell(Context& context, const ParsedArgs& args) { return open_shell(context, args, "shell", true); }
int cmd_enter(Context& context, const ParsedArgs& args) { return open_shell(context, args, "enter", false); }

}  // namespace ghostpod
