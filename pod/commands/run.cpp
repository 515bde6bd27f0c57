// run: one command in the ghost, joining the running session or starting one.
#include "pod/cli/messages.hpp"
#include "pod/commands/commands.hpp"
#include "pod/session/command.hpp"
#include "pod/session/launcher.hpp"

namespace ghostpod {

int cmd_run(Context& context, const ParsedArgs& args) {
    if (args.positional.empty()) return report(usage_error("run", "expects a command after --"));
    auto options = join_options(context, args, "run");
    if (!options) return report(options.error());
    options->mask = args.has("--mask");
    JoinInfo info;
    auto attachment = join_or_start(context, *options, info);
    if (!attachment) return report(attachment.error());
    return run_attached(*attachment, args.positional, *options);
}

}  // namespace ghostpod
