#include "pod/commands/commands.hpp"
#include "pod/cli/args.hpp"
#include "pod/cli/messages.hpp"
#include "pod/cli/prompt.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/store.hpp"

namespace ghostpod {

int cmd_passwd(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("passwd", "unexpected argument '" + args.positional[0] + "'"));
    std::optional<KdfProfile> profile;
    if (auto name = args.value("--kdf")) {
        profile = parse_profile(*name);
        if (!profile) return report(usage_error("passwd", "--kdf must be interactive, moderate or sensitive"));
    }
    int new_fd = -1;
    if (auto text = args.value("--new-passphrase-fd")) {
        auto fd = parse_fd("--new-passphrase-fd", *text);
        if (!fd) return report(fd.error());
        new_fd = *fd;
    }

    auto located = existing_vault_path(context);
    if (!located) return report(located.error());
    const std::string& path = *located;
    auto credential = obtain_credential(context, path);
    if (!credential) return report(credential.error());
    auto fresh = read_new_passphrase(new_fd, "--new-passphrase-fd", path);
    if (!fresh) return report(fresh.error());

    // A wrong current passphrase typed on the terminal is asked again; the new one is kept.
    auto changed = with_credential(
        context, path,
        [&](HeldCredential& current) -> Status {
            auto lock = VaultLock::acquire(path);
            if (!lock) return std::move(lock).error();
            auto vault = open_vault(path, current);
            if (!vault) return std::move(vault).error();
            if (!profile) {
                profile = KdfProfile::moderate;
                for (const auto& slot : vault->header().slots)
                    if (slot.type == SlotType::passphrase && slot.profile != KdfProfile::custom) profile = slot.profile;
            }
            GP_TRY(vault->set_passphrase(fresh->bytes(), *profile));
            GP_TRY(save_vault(*vault, path));
            if (auto backup = replace_backup_with_current(path); !backup) {
                Error e = backup.error();
                e.hint = "remove " + backup_path(path) + " by hand: it still opens with the old passphrase";
                return e;
            }
            return {};
        },
        std::move(*credential));
    if (!changed) return report(changed.error());
    note(std::string("passphrase changed for ") + path + " (KDF " + profile_name(*profile) +
         "); the recovery key still works; the data was not re-encrypted");
    return 0;
}

}  // namespace ghostpod
