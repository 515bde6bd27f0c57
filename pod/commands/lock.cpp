// lock: end the session; every process and plaintext in it goes.
#include "pod/cli/messages.hpp"
#include "pod/commands/commands.hpp"
#include "pod/session/client.hpp"
#include "pod/unlock/unlock.hpp"

namespace ghostpod {

int cmd_lock(Context& context, const ParsedArgs& args) {
    auto vault_path = existing_vault_path(context);
    if (!vault_path) return report(vault_path.error());
    auto paths = session_paths(*vault_path);
    if (!paths) return report(paths.error());
    auto answer = request<protocol::Locked>(*paths, protocol::LockRequest{args.has("--discard")});
    if (!answer) return report(answer.error());
    note("session locked: every process in it has ended and its RAM mount is gone");
    return 0;
}

}  // namespace ghostpod
