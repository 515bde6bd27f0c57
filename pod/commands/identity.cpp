// identity: the Infisical machine identity (Universal Auth client id and secret) in the vault.
#include <unistd.h>

#include "pod/commands/commands.hpp"
#include "pod/cli/args.hpp"
#include "pod/cli/messages.hpp"
#include "pod/cli/prompt.hpp"
#include "pod/infisical/entries.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

// Client id, then client secret, one line each, from `fd`; on a terminal, asked for (the
// secret with echo off).
Status read_identity(int fd, SecretBuffer& id, SecretBuffer& secret) {
    bool terminal = fd == STDIN_FILENO && ::isatty(fd);
    if (terminal) {
        (void)write_all(STDERR_FILENO, text_bytes("client id: "), "prompt");
    }
    auto read_id = read_line_from_fd(fd, "client id");
    if (!read_id) return std::move(read_id).error();
    id = std::move(*read_id);
    auto read_secret = terminal ? ask_hidden("client secret", "stdin or --from-fd") : read_line_from_fd(fd, "client secret");
    if (!read_secret) return std::move(read_secret).error();
    secret = std::move(*read_secret);
    if (id.empty() || secret.empty())
        return make_error(ErrorCode::usage, "identity set", "expected the client id and the client secret, one per line",
                          "e.g. printf '%s\\n%s\\n' \"$ID\" \"$SECRET\" | ghostpod identity set");
    return {};
}

}  // namespace

int cmd_identity_set(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("identity set", "takes no arguments"));
    int fd = STDIN_FILENO;
    if (auto from = args.value("--from-fd")) {
        auto parsed = parse_fd("--from-fd", *from);
        if (!parsed) return report(parsed.error());
        fd = *parsed;
        if (auto open = check_fd_open(fd, "--from-fd"); !open) return report(open.error());
    }
    SecretBuffer id, secret;
    if (auto read = read_identity(fd, id, secret); !read) return report(read.error());
    auto changed = change_vault(context, [&](Vault& vault, const std::string&) -> Status {
        for (auto [name, value] : {std::pair{kClientIdEntry, &id}, std::pair{kClientSecretEntry, &secret}}) {
            Entry entry;
            entry.name = name;
            entry.kind = EntryKind::identity;
            entry.mode = 0400;
            entry.updated = now_seconds();
            entry.source = fd == STDIN_FILENO ? "stdin" : "fd";
            GP_TRY(vault.put(std::move(entry), value->bytes()));
        }
        return {};
    });
    if (!changed) return report(changed.error());
    note("stored the machine identity (client id and secret) in the vault");
    return 0;
}

int cmd_identity_show(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("identity show", "takes no arguments"));
    std::string path;
    auto vault = read_only_vault(context, path);
    if (!vault) return report(vault.error());
    const Entry* id = vault->find(kClientIdEntry);
    const Entry* secret = vault->find(kClientSecretEntry);
    if (!id) return report(make_error(ErrorCode::runtime, "no machine identity in " + path, "", "store one with 'ghostpod identity set'"));
    // The client id names the identity (it is shown in Infisical's console); the secret is never shown.
    std::string text = "client id: ";
    (void)write_all(STDOUT_FILENO, text_bytes(text), "write to stdout");
    (void)write_all(STDOUT_FILENO, id->value(), "write to stdout");
    text = std::string("\nclient secret: ") + (secret ? "stored" : "missing") + "\n";
    (void)write_all(STDOUT_FILENO, text_bytes(text), "write to stdout");
    return 0;
}

int cmd_identity_rm(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("identity rm", "takes no arguments"));
    bool removed = false;
    auto changed = change_vault(context, [&](Vault& vault, const std::string&) -> Status {
        removed = vault.remove(kClientIdEntry);
        removed = vault.remove(kClientSecretEntry) || removed;
        return {};
    });
    if (!changed) return report(changed.error());
    note(removed ? "removed the machine identity from the vault" : "the vault held no machine identity");
    return 0;
}

}  // namespace ghostpod
