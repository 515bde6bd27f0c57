#include <unistd.h>

#include <span>

#include "pod/commands/commands.hpp"
#include "pod/cli/args.hpp"
#include "pod/unlock/config.hpp"
#include "pod/cli/messages.hpp"
#include "pod/cli/prompt.hpp"
#include "pod/unlock/trust.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/recovery_key.hpp"
#include "vault/store.hpp"

namespace ghostpod {
namespace {

std::string describe_params(KdfProfile profile) {
    auto p = params_for(profile);
    return std::string(profile_name(profile)) + ": Argon2id, " + std::to_string(p.m_cost_kib / 1024) + " MiB, " +
           std::to_string(p.t_cost) + " passes, " + std::to_string(p.parallelism) + " lanes";
}

Status create_vault(const Context& context, const std::string& path, KdfProfile profile) {
    if (file_exists(path))
        return make_error(ErrorCode::runtime, "init " + path, "a vault already exists there",
                          "use it, or choose another path with --vault; nothing was changed");
    auto passphrase = read_new_passphrase(context.passphrase_fd, "--passphrase-fd", path);
    if (!passphrase) return std::move(passphrase).error();
    if (!make_parent_dirs(path)) return sys_error("create the directory for " + path);
    auto lock = VaultLock::acquire(path);
    if (!lock) return std::move(lock).error();
    if (file_exists(path))
        return make_error(ErrorCode::runtime, "init " + path, "a vault was created there meanwhile", "nothing was changed");

    auto recovery = generate_recovery_key();
    if (!recovery) return std::move(recovery).error();
    auto vault = Vault::create(passphrase->bytes(), profile, recovery->bytes(), now_seconds());
    if (!vault) return std::move(vault).error();
    GP_TRY(save_vault(*vault, path));

    auto shown = format_recovery_key(recovery->bytes());
    if (!shown) return std::move(shown).error();
    GP_TRY(shown->push_back('\n'));
    note("created vault " + path + " (" + describe_params(profile) + ")");
    note("recovery key below, shown this once: keep it offline; it unlocks the vault if the passphrase is lost");
    return write_all(STDOUT_FILENO, shown->bytes(), "write the recovery key to stdout");
}

Status allow_what_init_wrote(bool wrote_config) {
    std::vector<std::string> paths = {".ghostpod/vault"};
    if (wrote_config) paths.push_back(".ghostpod/config.json");
    for (const auto& path : paths) {
        auto candidates = trust_candidates(path, now_seconds());
        if (!candidates) return std::move(candidates).error();
        for (const auto& c : *candidates)
            if (c.needed && !c.unusable) GP_TRY(save_trust_record(c.record));
    }
    return {};
}

}  // namespace

int cmd_init(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("init", "unexpected argument '" + args.positional[0] + "'"));
    KdfProfile profile = KdfProfile::moderate;
    if (auto name = args.value("--kdf")) {
        auto p = parse_profile(*name);
        if (!p) return report(usage_error("init", "--kdf must be interactive, moderate or sensitive, not '" + *name + "'"));
        profile = *p;
    }

    std::string path;
    bool project = false;
    const char* env_vault = getenv("GHOSTPOD_VAULT");
    bool explicit_vault = context.paths.vault || (env_vault && *env_vault);
    if (explicit_vault && args.has("--user"))
        return report(usage_error("init", "--user conflicts with --vault / GHOSTPOD_VAULT"));
    if (explicit_vault) {
        path = resolve_vault_path(locate_vault(context.paths).path);
    } else if (args.has("--user")) {
        path = user_vault_path();
    } else {
        path = ".ghostpod/vault";
        project = true;
    }
    if (auto created = create_vault(context, path, profile); !created) return report(created.error());
    if (project) {
        auto wrote_config = write_project_scaffold(".ghostpod");
        if (!wrote_config) return report(wrote_config.error());
        // What init wrote is the user's own: allowed, so the next command uses it without asking.
        if (auto allowed = allow_what_init_wrote(*wrote_config); !allowed) return report(allowed.error());
        if (*wrote_config) note("wrote .ghostpod/config.json (safe to commit) and .ghostpod/.gitignore (keeps the vault out of Git)");
        else note("kept the existing .ghostpod/config.json: review it, then 'ghostpod allow' it (see ghostpod(1), TRUST)");
    }
    return 0;
}

}  // namespace ghostpod
