// identity: the Infisical machine identity (Universal Auth client id and secret) in the vault,
// with its pin: the one server (and private CA) it may be sent to.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "pod/commands/commands.hpp"
#include "pod/cli/args.hpp"
#include "pod/cli/messages.hpp"
#include "pod/cli/prompt.hpp"
#include "pod/formats/env_export.hpp"
#include "pod/infisical/client.hpp"
#include "pod/infisical/entries.hpp"
#include "pod/unlock/identity_pin.hpp"
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
    if (args.has("--cacert") && !args.has("--host")) return report(usage_error("identity set", "--cacert goes with --host"));
    // Checked before the secret is read: a wrong host costs no typing.
    std::optional<IdentityPin> pin;
    if (auto host = args.value("--host")) {
        auto made = make_pin(kInfisicalBackend, normalise_base_url(*host), args.value("--cacert").value_or(""), "identity set", now_seconds());
        if (!made) return report(made.error());
        pin = std::move(*made);
    }
    int fd = STDIN_FILENO;
    if (auto from = args.value("--from-fd")) {
        auto parsed = parse_fd("--from-fd", *from);
        if (!parsed) return report(parsed.error());
        fd = *parsed;
        if (auto open = check_fd_open(fd, "--from-fd"); !open) return report(open.error());
    }
    SecretBuffer id, secret;
    if (auto read = read_identity(fd, id, secret); !read) return report(read.error());
    std::optional<IdentityPin> kept;
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
        if (pin) return store_pin(vault, *pin);
        // A new secret for the same identity (a rotation) keeps where it may go.
        auto existing = read_pin(vault, kInfisicalBackend);
        if (!existing) return std::move(existing).error();
        kept = *existing;
        return {};
    });
    if (!changed) return report(changed.error());
    note("stored the machine identity (client id and secret) in the vault");
    if (pin) note("it is sent only to " + describe_pin(*pin));
    else if (kept) note("it is still sent only to " + describe_pin(*kept) + " (--host changes that)");
    else note("it is not pinned yet: its first successful pull pins it to that server (or pin it now with --host URL)");
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
    auto pin = read_pin(*vault, kInfisicalBackend);
    if (!pin) return report(pin.error());
    // The client id names the identity (it is shown in Infisical's console); the secret is never shown.
    if (args.has("--json")) {
        auto out = SecretBuffer::allocate(0);
        Status built = out ? Status{} : Status{out.error()};
        auto add = [&](const std::string& text) {
            if (built) built = out->append(text_bytes(text));
        };
        add("{\n  \"vault\": ");
        if (built) built = append_json_string(*out, text_bytes(path));
        add(",\n  \"client_id\": ");
        if (built) built = append_json_string(*out, id->value());
        add(std::string(",\n  \"client_secret\": ") + (secret ? "\"stored\"" : "\"missing\""));
        nlohmann::json pinned = nullptr;  // where the identity may be sent; no secret in it
        if (*pin) pinned = {{"host", (*pin)->base_url}, {"pinned_by", (*pin)->pinned_by}, {"ca_sha256", (*pin)->ca_sha256}};
        add(",\n  \"pin\": " + pinned.dump() + "\n}\n");
        if (built) built = write_all(STDOUT_FILENO, out->bytes(), "write to stdout");
        return built ? 0 : report(built.error());
    }
    std::string text = "client id: ";
    (void)write_all(STDOUT_FILENO, text_bytes(text), "write to stdout");
    (void)write_all(STDOUT_FILENO, id->value(), "write to stdout");
    text = std::string("\nclient secret: ") + (secret ? "stored" : "missing") + "\n";
    if (*pin) {
        text += "host: " + (*pin)->base_url + " (pinned by " + (*pin)->pinned_by + ")\n";
        text += "tls: " + ((*pin)->ca_sha256.empty() ? std::string("the system's CAs") : "the CA SHA256 " + (*pin)->ca_sha256[0]) + "\n";
        for (std::size_t i = 1; i < (*pin)->ca_sha256.size(); ++i) text += "     the CA SHA256 " + (*pin)->ca_sha256[i] + "\n";
    } else {
        text += "host: not pinned yet (the first successful pull pins it)\n";
    }
    (void)write_all(STDOUT_FILENO, text_bytes(text), "write to stdout");
    return 0;
}

int cmd_identity_rm(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("identity rm", "takes no arguments"));
    bool removed = false;
    auto changed = change_vault(context, [&](Vault& vault, const std::string&) -> Status {
        removed = vault.remove(kClientIdEntry);
        removed = vault.remove(kClientSecretEntry) || removed;
        removed = remove_pin(vault, kInfisicalBackend) || removed;
        return {};
    });
    if (!changed) return report(changed.error());
    note(removed ? "removed the machine identity from the vault" : "the vault held no machine identity");
    return 0;
}

}  // namespace ghostpod
