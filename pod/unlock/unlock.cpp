#include "pod/unlock/unlock.hpp"

#include <ctime>

#include "pod/cli/messages.hpp"
#include "pod/cli/prompt.hpp"
#include "pod/unlock/trust.hpp"
#include "vault/recovery_key.hpp"
#include "vault/store.hpp"

namespace ghostpod {

std::uint64_t now_seconds() { return static_cast<std::uint64_t>(std::time(nullptr)); }

Result<HeldCredential> obtain_credential(const Context& context, const std::string& vault_path) {
    HeldCredential held;
    if (context.recovery_key_fd >= 0) {
        GP_TRY(check_fd_open(context.recovery_key_fd, "--recovery-key-fd"));
        auto text = read_line_from_fd(context.recovery_key_fd, "recovery key from --recovery-key-fd");
        if (!text) return std::move(text).error();
        auto key = parse_recovery_key(text->bytes());
        if (!key) return std::move(key).error();
        held.type = SlotType::recovery;
        held.secret = std::move(*key);
        return held;
    }
    Result<SecretBuffer> passphrase = SecretBuffer{};
    if (context.passphrase_fd >= 0) {
        GP_TRY(check_fd_open(context.passphrase_fd, "--passphrase-fd"));
        passphrase = read_line_from_fd(context.passphrase_fd, "passphrase from --passphrase-fd");
    } else {
        passphrase = ask_hidden("passphrase for " + vault_path, "--passphrase-fd N");
    }
    if (!passphrase) return std::move(passphrase).error();
    held.secret = std::move(*passphrase);
    return held;
}

bool credential_from_terminal(const Context& context) { return context.recovery_key_fd < 0 && context.passphrase_fd < 0; }

bool wrong_credential(const Error& error) {
    // Vault::open's "wrong passphrase or damaged file" / "wrong recovery key …", also as the
    // session holder reports it (the same Error, over the protocol).
    return error.code == ErrorCode::unlock && error.describe().find(": wrong ") != std::string::npos;
}

Status with_credential(const Context& context, const std::string& vault_path,
                       const std::function<Status(HeldCredential&)>& attempt, std::optional<HeldCredential> first) {
    int tries = credential_from_terminal(context) ? kPassphraseTries : 1;
    for (int i = 1;; ++i) {
        Result<HeldCredential> credential = HeldCredential{};
        if (first) {
            credential = std::move(*first);
            first.reset();
        } else {
            credential = obtain_credential(context, vault_path);
        }
        if (!credential) return std::move(credential).error();
        Status done = attempt(*credential);
        credential->secret = SecretBuffer{};
        if (done || i >= tries || !wrong_credential(done.error())) return done;
        say_on_terminal("ghostpod: wrong passphrase for " + vault_path + "; try again (" + std::to_string(i + 1) + " of " +
                        std::to_string(tries) + ")\n");
    }
}

Result<Vault> open_vault(const std::string& path, const HeldCredential& credential) {
    auto bytes = read_vault_file(path);
    if (!bytes) return std::move(bytes).error();
    auto vault = Vault::open(*bytes, credential.view());
    if (!vault) {
        Error e = std::move(vault).error();
        if (e.what.empty()) e.what = "cannot unlock " + path;
        return e;
    }
    return vault;
}

Result<std::string> existing_vault_path(const Context& context) {
    Located where = locate_vault(context.paths);
    // Before the file is even looked at: a vault a repository links to is not opened unasked.
    GP_TRY(check_vault_trust(where));
    std::string path = resolve_vault_path(where.path);
    if (!file_exists(path)) return read_vault_file(path).error();
    return path;
}

Result<Vault> read_only_vault(const Context& context, std::string& path) {
    auto located = existing_vault_path(context);
    if (!located) return std::move(located).error();
    path = *located;
    std::optional<Vault> opened;
    GP_TRY(with_credential(context, path, [&](HeldCredential& credential) -> Status {
        auto vault = open_vault(path, credential);
        if (!vault) return std::move(vault).error();
        opened = std::move(*vault);
        return {};
    }));
    return std::move(*opened);
}

Status save_vault(Vault& vault, const std::string& path) {
    auto bytes = vault.serialise(now_seconds());
    if (!bytes) return std::move(bytes).error();
    auto written = replace_vault_file(path, *bytes);
    if (!written) {
        Error e = std::move(written).error();
        e.what = "save " + path + ": " + e.what;
        if (e.hint.empty()) e.hint = "the vault on disk is unchanged; free space or fix the error and retry";
        return e;
    }
    return {};
}

}  // namespace ghostpod
