// identity: the machine identities in the vault that 'pull' logs in with, Infisical's (a
// Universal Auth client id and secret) and Vault's / OpenBao's (an AppRole role_id and
// secret_id), each with its pin: the one server (and private CA) it may be sent to.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "pod/commands/commands.hpp"
#include "pod/cli/args.hpp"
#include "pod/cli/messages.hpp"
#include "pod/cli/prompt.hpp"
#include "pod/formats/env_export.hpp"
#include "pod/hcvault/entries.hpp"
#include "pod/hcvault/settings.hpp"
#include "pod/infisical/client.hpp"
#include "pod/infisical/entries.hpp"
#include "pod/unlock/identity_pin.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

// What each backend's identity is made of, in the user's words and as vault entries.
struct IdentityKind {
    const char* backend;  // "infisical", "vault": also the pin's backend
    std::string title;    // "Infisical machine identity", "Vault AppRole"
    std::string id_label, secret_label;
    const char* id_entry;
    const char* secret_entry;
    std::string (*base_url)(const std::string& host);  // --host as the backend's client uses it
    std::string flag;     // "" or " --backend vault", for hints
};

const IdentityKind kInfisical{kInfisicalBackend, "Infisical machine identity", "client id", "client secret", kClientIdEntry,
                              kClientSecretEntry, normalise_base_url, ""};
const IdentityKind kVault{kVaultBackend, "Vault AppRole", "role_id", "secret_id", kVaultRoleIdEntry, kVaultSecretIdEntry,
                          normalise_vault_address, " --backend vault"};

Result<const IdentityKind*> backend_of(const ParsedArgs& args, const std::string& command) {
    std::string name = args.value("--backend").value_or("infisical");
    if (name == "infisical") return &kInfisical;
    if (name == "vault" || name == "openbao") return &kVault;
    return usage_error(command, "--backend is infisical or vault (Vault and OpenBao)");
}

// The id, then the secret, one line each, from `fd`; on a terminal, asked for (the secret with
// echo off).
Status read_identity(const IdentityKind& kind, int fd, SecretBuffer& id, SecretBuffer& secret) {
    bool terminal = fd == STDIN_FILENO && ::isatty(fd);
    if (terminal) (void)write_all(STDERR_FILENO, text_bytes(kind.id_label + ": "), "prompt");
    auto read_id = read_line_from_fd(fd, kind.id_label);
    if (!read_id) return std::move(read_id).error();
    id = std::move(*read_id);
    auto read_secret = terminal ? ask_hidden(kind.secret_label, "stdin or --from-fd") : read_line_from_fd(fd, kind.secret_label);
    if (!read_secret) return std::move(read_secret).error();
    secret = std::move(*read_secret);
    if (id.empty() || secret.empty())
        return make_error(ErrorCode::usage, "identity set", "expected the " + kind.id_label + " and the " + kind.secret_label + ", one per line",
                          "e.g. printf '%s\\n%s\\n' \"$ID\" \"$SECRET\" | ghostpod identity set" + kind.flag);
    return {};
}

std::string pin_text(const std::optional<IdentityPin>& pin) {
    if (!pin) return "  host: not pinned yet (the first successful pull pins it)\n";
    std::string text = "  host: " + pin->base_url + " (pinned by " + pin->pinned_by + ")\n";
    text += "  tls: " + (pin->ca_sha256.empty() ? std::string("the system's CAs") : "the CA SHA256 " + pin->ca_sha256[0]) + "\n";
    for (std::size_t i = 1; i < pin->ca_sha256.size(); ++i) text += "       the CA SHA256 " + pin->ca_sha256[i] + "\n";
    return text;
}

}  // namespace

int cmd_identity_set(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("identity set", "takes no arguments"));
    auto found = backend_of(args, "identity set");
    if (!found) return report(found.error());
    const IdentityKind& kind = **found;
    if (args.has("--cacert") && !args.has("--host")) return report(usage_error("identity set", "--cacert goes with --host"));
    // Checked before the secret is read: a wrong host costs no typing.
    std::optional<IdentityPin> pin;
    if (auto host = args.value("--host")) {
        auto made = make_pin(kind.backend, kind.base_url(*host), args.value("--cacert").value_or(""), "identity set", now_seconds());
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
    if (auto read = read_identity(kind, fd, id, secret); !read) return report(read.error());
    std::optional<IdentityPin> kept;
    auto changed = change_vault(context, [&](Vault& vault, const std::string&) -> Status {
        for (auto [name, value] : {std::pair{kind.id_entry, &id}, std::pair{kind.secret_entry, &secret}}) {
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
        auto existing = read_pin(vault, kind.backend);
        if (!existing) return std::move(existing).error();
        kept = *existing;
        return {};
    });
    if (!changed) return report(changed.error());
    note("stored the " + kind.title + " (" + kind.id_label + " and " + kind.secret_label + ") in the vault");
    if (pin) note("it is sent only to " + describe_pin(*pin));
    else if (kept) note("it is still sent only to " + describe_pin(*kept) + " (--host changes that)");
    else note("it is not pinned yet: its first successful pull pins it to that server (or pin it now with --host URL)");
    return 0;
}

int cmd_identity_show(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("identity show", "takes no arguments"));
    std::vector<const IdentityKind*> kinds = {&kInfisical, &kVault};
    if (args.has("--backend")) {
        auto kind = backend_of(args, "identity show");
        if (!kind) return report(kind.error());
        kinds = {*kind};
    }
    std::string path;
    auto vault = read_only_vault(context, path);
    if (!vault) return report(vault.error());
    // The ids name the identities (Infisical's console shows the client id, Vault the role_id);
    // the secrets are never shown. The JSON is built in secret memory: an id is the vault's.
    bool json = args.has("--json");
    auto out = SecretBuffer::allocate(0);
    Status built = out ? Status{} : Status{out.error()};
    auto add = [&](const std::string& text) {
        if (built) built = out->append(text_bytes(text));
    };
    if (json) {
        add("{\n  \"vault\": ");
        if (built) built = append_json_string(*out, text_bytes(path));
        add(",\n  \"identities\": [");
    }
    bool any = false;
    for (const IdentityKind* kind : kinds) {
        const Entry* id = vault->find(kind->id_entry);
        const Entry* secret = vault->find(kind->secret_entry);
        if (!id) continue;
        auto pin = read_pin(*vault, kind->backend);
        if (!pin) return report(pin.error());
        if (json) {
            add(std::string(any ? "," : "") + "\n    {\"backend\": \"" + kind->backend + "\", \"id\": ");
            if (built) built = append_json_string(*out, id->value());
            add(std::string(", \"secret_stored\": ") + (secret ? "true" : "false"));
            nlohmann::json pinned = nullptr;  // where the identity may be sent; no secret in it
            if (*pin) pinned = {{"host", (*pin)->base_url}, {"pinned_by", (*pin)->pinned_by}, {"ca_sha256", (*pin)->ca_sha256}};
            add(", \"pin\": " + pinned.dump() + "}");
            any = true;
            continue;
        }
        std::string text = std::string(any ? "\n" : "") + kind->backend + ":\n  " + kind->id_label + ": ";
        (void)write_all(STDOUT_FILENO, text_bytes(text), "write to stdout");
        (void)write_all(STDOUT_FILENO, id->value(), "write to stdout");
        text = "\n  " + kind->secret_label + ": " + (secret ? "stored" : "missing") + "\n" + pin_text(*pin);
        (void)write_all(STDOUT_FILENO, text_bytes(text), "write to stdout");
        any = true;
    }
    if (!any)
        return report(make_error(ErrorCode::runtime, "no machine identity in " + path, "",
                                 "store one with 'ghostpod identity set' (Infisical) or 'ghostpod identity set --backend vault'"));
    if (json) {
        add("\n  ]\n}\n");
        if (built) built = write_all(STDOUT_FILENO, out->bytes(), "write to stdout");
        return built ? 0 : report(built.error());
    }
    return 0;
}

int cmd_identity_rm(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("identity rm", "takes no arguments"));
    auto found = backend_of(args, "identity rm");
    if (!found) return report(found.error());
    const IdentityKind& kind = **found;
    bool removed = false;
    auto changed = change_vault(context, [&](Vault& vault, const std::string&) -> Status {
        removed = vault.remove(kind.id_entry);
        removed = vault.remove(kind.secret_entry) || removed;
        removed = remove_pin(vault, kind.backend) || removed;
        return {};
    });
    if (!changed) return report(changed.error());
    note(removed ? "removed the " + kind.title + " from the vault" : "the vault held no " + kind.title);
    return 0;
}

}  // namespace ghostpod
