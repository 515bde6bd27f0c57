// The command table. Help texts stay short: ghostpod(1) is the reference, and the [help] tests
// keep it, both shell completions and this table naming the same commands and options.
#include "pod/cli/command_table.hpp"

#include <algorithm>
#include <sstream>

#include "pod/cli/messages.hpp"
#include "pod/commands/commands.hpp"

namespace ghostpod {
namespace {

const OptionSpec kProfile{"--profile", true, "P", "see only the secrets of the config's profile P: a view of its own"};
const OptionSpec kTtl{"--ttl", true, "D", "a new session ends after D at the latest (default 8h; 90s, 15m, 8h, 2d)"};
const OptionSpec kLinger{"--linger", true, "D", "a new session stays D after its last command ends (default 0)"};
const OptionSpec kJson{"--json", false, "", "JSON instead of text"};
const OptionSpec kOverwrite{"--overwrite", false, "", "replace secrets of the same name"};
const OptionSpec kBackend{"--backend", true, "B", "infisical (default) or vault (HashiCorp Vault and OpenBao)"};

std::vector<Command> make_table() {
    return {
        {"init", "[--kdf interactive|moderate|sensitive] [--user]", "create a new encrypted vault",
         {{"--kdf", true, "PROFILE", "Argon2id cost: interactive (64 MiB), moderate (256 MiB, default) or sensitive (1 GiB)"},
          {"--user", false, "", "create the user's own vault instead of a project vault"}},
         R"(Creates a new vault and prints its recovery key once, on stdout. The passphrase is asked
twice on the terminal, or read from --passphrase-fd N (one line).

Where: --vault FILE or GHOSTPOD_VAULT if given; with --user, $XDG_DATA_HOME/ghostpod/vault;
otherwise .ghostpod/vault in the working directory, with .ghostpod/config.json (no secrets,
safe to commit) and .ghostpod/.gitignore (keeps the vault out of Git).
)",
         cmd_init, "[--kdf PROFILE] [--user]"},

        {"secret", "set|get|ls|rm|generate|edit ...", "set, get, list, remove, generate or edit secrets", {},
         "Run 'ghostpod secret SUBCOMMAND --help' for one subcommand.\n", nullptr},
        {"secret set", "NAME [--file PATH] [--kind KIND] [--mode MODE]", "store a secret (value from stdin unless --file)",
         {{"--file", true, "PATH", "read the value from PATH instead of stdin"},
          {"--kind", true, "KIND", "file (default), env, identity or token-cache"},
          {"--mode", true, "MODE", "octal file mode the secret gets inside a session (default 0400)"}},
         R"(Stores a secret, replacing any of the same name. The value is read from stdin (bytes exact,
to end of file; on a terminal: one hidden line) or from --file PATH.
NAME: letters, digits and . _ - @ +, with / between folder names (e.g. kube/config).
On a terminal the passphrase is asked first, then the value.
)",
         cmd_secret_set, "NAME [--file PATH]"},
        {"secret get", "NAME", "write a secret's bytes to stdout, exactly", {},
         "Writes the secret's bytes to stdout exactly, with nothing added.\n", cmd_secret_get},
        {"secret ls", "[--json]", "list secrets: names and metadata, never values", {kJson},
         "Lists secrets with kind, size, mode, update time and source. Never prints values.\n", cmd_secret_ls},
        {"secret rm", "NAME", "remove a secret", {},
         "Removes a secret. The previous generation of the vault stays in <vault>.bak until the next write.\n",
         cmd_secret_rm},
        {"secret generate", "age NAME [--force]", "a new age identity in the vault; prints its recipient",
         {{"--force", false, "", "replace an existing secret NAME (its old identity is lost)"}},
         R"(Makes a new age X25519 identity (as age-keygen does) in locked memory and stores it as the
file secret NAME (mode 0400, source generated:age). Prints the recipient (age1...) on stdout.
Name it sops/age/keys.txt and sops and age find it in the ghost at ~/.config/sops/age/keys.txt.
)",
         cmd_secret_generate},
        {"secret edit", "NAME", "edit a secret in $EDITOR on a copy in RAM", {},
         R"(Opens the secret in $EDITOR (else $VISUAL, else vi or nano) on a copy in a RAM directory that
only the editor's private mount namespace sees, so its swap and backup files stay in RAM too;
the copy is wiped when the editor exits. Saved back when changed; unchanged when the editor
exits non-zero (exit 1). A missing NAME starts empty. Vim and Neovim run without swap, undo,
backup and viminfo files. The vault's writer lock is held until the edit is saved.
)",
         cmd_secret_edit},

        {"passwd", "[--new-passphrase-fd N] [--kdf PROFILE]", "change the passphrase (the data is not re-encrypted)",
         {{"--new-passphrase-fd", true, "N", "read the new passphrase from descriptor N (may be the --passphrase-fd one, next line)"},
          {"--kdf", true, "PROFILE", "Argon2id cost for the new passphrase (default: keep the current one)"}},
         R"(Re-wraps the data key under a new passphrase; the data is not re-encrypted. Unlock with the
current passphrase or, when it is lost, with the recovery key (--recovery-key-fd).
)",
         cmd_passwd, "[--new-passphrase-fd N]"},

        {"run", "[--profile P] [--ttl D] [--linger D] [--mask] -- CMD [ARGS]", "run one command in the ghost",
         {kProfile, kTtl, kLinger,
          {"--mask", false, "", "replace the session's secret values in CMD's output by <concealed by ghostpod>"}},
         R"(Runs CMD inside the ghost, whose RAM mount holds the vault's secrets ($GHOSTPOD_DIR/<name>,
mapped paths such as ~/.kube/config, variables such as KUBECONFIG). Joins the running session,
or unlocks the vault and starts one that ends with CMD (unless --linger keeps it). CMD runs
without capabilities, with no_new_privs, a seccomp filter and an allowlisted environment.
Exits with CMD's exit code (128+N when killed by signal N). With --mask, CMD's stdout and
stderr pass through ghostpod, which replaces each secret value of its view (4 bytes or more)
by <concealed by ghostpod>, also when a value is split across writes.
)",
         cmd_run},
        {"shell", "[--profile P] [--ttl D] [--linger D]", "an interactive shell in the ghost (joins or starts)",
         {kProfile, kTtl, kLinger},
         R"(An interactive $SHELL (else /bin/bash) in the ghost, as 'run' would start it: joins the running
session or starts one that ends when the last attached shell or command ends (plus --linger).
)",
         cmd_shell},
        {"enter", "[--profile P]", "another shell in the running session", {kProfile},
         "Another interactive shell in the running session. Exit 5 when no session is running.\n", cmd_enter},

        {"pull", "[--no-shell] [--offline] [--cacert FILE] [--env ENV] [-q] [--json] [--ttl D] [--linger D] [--profile P] [-- CMD [ARGS]]",
         "pull Infisical and Vault secrets into the ghost, then a shell or CMD",
         {{"--no-shell", false, "", "leave the session running (until 'ghostpod lock' or its TTL) and return"},
          {"--offline", false, "", "use the offline cache of the last pull; the server is not contacted"},
          {"--cacert", true, "FILE", "trust this PEM CA bundle for the server's certificate (a private CA)"},
          {"--env", true, "ENV", "the Infisical environment slug (default: infisical.environment, .infisical.json, dev)"},
          {"--quiet", false, "", "no status line and no summary (errors and warnings are still printed)", "-q"},
          {"--json", false, "", "the pull's summary as JSON on stdout (secrets, source, host, environment, warnings)"},
          kTtl, kLinger, kProfile},
         R"(Unlocks the vault, opens the ghost (or joins the running session), logs in to each configured
source with its identity in the vault and pulls into the ghost: Infisical's folders
($GHOSTPOD_DIR/infisical/KEY), Vault's or OpenBao's KV paths ($GHOSTPOD_DIR/vault/MOUNT/PATH/KEY)
and the session's client certificates (vault.pki); built in: SOPS_AGE_KEY, TALOSCONFIG,
KUBECONFIG at the tools' paths. Then opens a shell or runs CMD. In a running session it refreshes
the pull; a failed refresh keeps the old contents. Exit 4 when a server cannot be reached or
refuses. See ghostpod-config(5).
)",
         cmd_pull, "[--no-shell] [--offline] [-- CMD [ARGS]]"},

        {"identity", "set|show|rm", "the machine identities in the vault (Infisical, Vault)", {},
         R"(The machine identities that 'pull' logs in with, kept in the vault and never written anywhere
else: Infisical's (a Universal Auth client id and secret) and Vault's or OpenBao's (an AppRole
role_id and secret_id, --backend vault).
)",
         nullptr},
        {"identity set", "[--backend infisical|vault] [--from-fd N] [--host URL [--cacert FILE]]",
         "store a machine identity (id, then secret) and its pin",
         {kBackend, {"--from-fd", true, "N", "read the two lines from descriptor N instead of stdin"},
          {"--host", true, "URL", "pin the identity to this server: it is sent nowhere else"},
          {"--cacert", true, "FILE", "with --host: pin the private CA (PEM) that the server's certificate must chain to"}},
         R"(Reads the id and then the secret, one line each, from stdin (asked for on a terminal, the
secret with echo off) or from descriptor N, and stores them in the vault: Infisical's client id
and client secret, or with --backend vault an AppRole's role_id and secret_id.
The identity is pinned to one server (and CA): --host pins it now; without --host an existing
pin is kept, and an identity with none is pinned by its first successful pull. A pull to any
other server or CA is refused before connecting (exit 2).
)",
         cmd_identity_set, "[--backend B] [--from-fd N] [--host URL]"},
        {"identity show", "[--backend infisical|vault] [--json]", "print the stored ids and pins (never the secrets)", {kBackend, kJson},
         "Prints each stored identity's id (client id, role_id), whether its secret is stored, and the\nserver and CA it is pinned to. Secrets are never printed.\n",
         cmd_identity_show, "[--backend B] [--json]"},
        {"identity rm", "[--backend infisical|vault]", "remove a machine identity from the vault", {kBackend},
         "Removes the Infisical machine identity, or with --backend vault the AppRole, from the vault,\nwith its pin.\n",
         cmd_identity_rm, "[--backend B]"},

        {"certs", "[--warn-days N] [--json]", "certificates in the vault or the ghost, worst first",
         {{"--warn-days", true, "N", "the warning window in days, 0 to 36500 (default 30)"},
          {"--json", false, "", "a JSON array: source, subject, issuer, not_before, not_after, days_left, status"}},
         R"(Lists every X.509 certificate (PEM, DER, talosconfig ca/crt, kubeconfig certificate data),
worst first: with a session running those in its ghost, otherwise those in the vault and its
offline cache. Keys are never decoded nor shown. Exit 6 when one expires within N days or has
expired. For CI:
  printf '%s\n' "$RECOVERY_KEY" | ghostpod --recovery-key-fd 0 certs --warn-days 30
)",
         cmd_certs},

        {"import", "tazpod|dotenv FILE ...", "bring secrets kept elsewhere into the vault", {},
         "Run 'ghostpod import SOURCE --help' for one source.\n", nullptr, "", "source"},
        {"import tazpod", "FILE [--tazpod-passphrase-fd N] [--skip-unsafe] [--overwrite]",
         "bring TazPod's vault.tar.aes into the vault (in memory only)",
         {{"--tazpod-passphrase-fd", true, "N", "read the TazPod passphrase from descriptor N (one line)"},
          {"--skip-unsafe", false, "", "import the other files and list the refused entries"},
          kOverwrite},
         R"(Decrypts, inflates and reads TazPod's vault.tar.aes in locked memory only; each regular file
becomes a file secret named by its path in the archive. .vault_pass is left out. Absolute
paths, '..', links and devices are refused by name. A wrong passphrase or damaged archive: exit 3.
)",
         cmd_import_tazpod, "FILE [--skip-unsafe] [--overwrite]"},
        {"import dotenv", "FILE [--overwrite]", "store a .env file's variables as env secrets", {kOverwrite},
         R"(Stores each KEY=value of a .env file (FILE, or - for stdin) as an env secret KEY: quotes,
escapes, 'export' and multi-line values as dotenv reads them; no $VAR expansion.
)",
         cmd_import_dotenv},

        {"save", "[--force] [--json]", "write files changed or created in the ghost back to the vault",
         {{"--force", false, "", "write this session's changed files over a vault changed elsewhere"},
          {"--json", false, "", "print what was saved as JSON"}},
         R"(Writes files changed or created below $GHOSTPOD_DIR (mapped paths included) back to the vault,
atomically, with no passphrase. Pulled secrets are not saved. Exit 7 when the vault changed
elsewhere since the session unlocked it: nothing is written.
)",
         cmd_save},
        {"lock", "[--discard] [--json]", "end the session: every process and plaintext in it gone",
         {{"--discard", false, "", "end the session without saving, losing unsaved changes, whatever session.save_on_lock says"}, kJson},
         R"(Ends the vault's session: every process in the ghost is killed and the RAM mount goes with
them; returns when they are gone. Exit 5 when no session is running. Unsaved changes in the
ghost (what 'save' would write, and new files in shadowed directories) stop it with exit 7 and
are listed; on a terminal it asks: y saves and locks, d discards and locks, Enter keeps it.
)",
         cmd_lock},
        {"export", "[--format dotenv|dotenv-export|json|yaml] [--profile P]", "the env-style values as .env, JSON or YAML, to stdout",
         {{"--format", true, "FORMAT", "dotenv (default: KEY='value'), dotenv-export, json or yaml"},
          {"--profile", true, "P", "only the values the config's profile P may see"}},
         R"(Writes, to stdout only, the values a session puts in variables: every env secret under its
name, every pulled Infisical key, and every variable a mapping fills with a value
("env_value": true); a mapped variable wins over a key of the same name. Path variables
(KUBECONFIG=~/.kube/config) are not written. With a session running, from it, without a
passphrase; otherwise from the vault (without pulled keys). dotenv quotes as 'infisical export'
does (KEY='value'), with double quotes and \ " $ ` escaped where a value holds ' or a CR.
)",
         cmd_export, "[--format FORMAT] [--profile P]"},
        {"status", "[--profile P] [--json]", "the vault, the session, what it exposes and the memory-protection posture",
         {{"--profile", true, "P", "only what the config's profile P sees in the running session"}, kJson},
         R"(Shows the vault (path, entries, generation, keyslots), the config, a running session and the
memory-protection posture; with a session running, each secret it exposes: its file, the paths
and variables it appears at and the profiles that get it. Needs no passphrase and never shows a
value. Run with --profile P in the ghost, it shows that profile's view only.
)",
         cmd_status},
        {"allow", "[PATH] [--list]", "allow a repository's config, .infisical.json or vault link",
         {{"--list", false, "", "list the allowed files and whether they changed since"}},
         R"(A .ghostpod/config.json, .infisical.json or .ghostpod/vault link found by the search from the
working directory (a cloned repository's) is used only once allowed; a changed file is refused
again (exit 8). Records the file's real path and SHA-256 (a vault link: where it leads) in
$XDG_STATE_HOME/ghostpod/allowed/. PATH: such a file, or a directory holding them; none: what
the search from the working directory finds. Prints what each file does.
)",
         cmd_allow},
        {"deny", "[PATH]", "withdraw an allow", {},
         "Removes the record 'allow' made for PATH (a file, or a directory holding them): it is refused\nagain until allowed.\n",
         cmd_deny},
        {"help", "[COMMAND]", "this text, or one command's", {},
         "Shows the overview, or the help of one command (e.g. 'ghostpod help secret set').\n", cmd_help},
    };
}

std::string pad(std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text;
}

}  // namespace

const std::vector<Command>& command_table() {
    static const std::vector<Command> table = make_table();
    return table;
}

const Command* find_command(const std::string& name) {
    for (const auto& c : command_table())
        if (c.name == name) return &c;
    return nullptr;
}

std::vector<const Command*> subcommands_of(const Command& group) {
    std::vector<const Command*> out;
    for (const auto& c : command_table())
        if (c.name.rfind(group.name + " ", 0) == 0) out.push_back(&c);
    return out;
}

std::string overview_text() {
    std::string text = "ghostpod - keys in RAM, only for the tools that need them\n\n"
                       "Usage: ghostpod [GLOBAL OPTIONS] COMMAND [ARGS]\n\nCommands:\n";
    constexpr std::size_t kColumn = 35;
    for (const auto& c : command_table()) {
        if (c.handler == nullptr) continue;  // a group: its subcommands are listed
        std::string synopsis(c.brief.empty() ? c.synopsis : c.brief);
        std::string left = "  " + c.name + (synopsis.empty() ? "" : " " + synopsis);
        std::string summary(c.summary);
        text += left.size() + 2 > kColumn ? left + "\n" + std::string(kColumn, ' ') + summary + "\n" : pad(left, kColumn) + summary + "\n";
    }
    text += "\nGlobal options:\n";
    for (const auto& o : global_options()) text += pad("  " + o.name + " " + std::string(o.value_name), 25) + std::string(o.doc) + "\n";
    text += pad("  -h, --help", 25) + "show help;  --version  show the version\n";
    text += R"(
Exit codes:
  0 ok; 1 runtime failure; 2 usage error; 3 wrong passphrase or damaged vault;
  4 network or server failure; 5 session state (none running, or it ended meanwhile);
  6 certs: a certificate expires within the warning window or has expired;
  7 save conflict: the vault changed elsewhere; lock: unsaved changes in the ghost;
  8 a file found by the search (a repository's) is not allowed: see 'ghostpod allow'

Run 'ghostpod help COMMAND' for one command. See ghostpod(1), ghostpod-vault(5) and
ghostpod-config(5).
)";
    return text;
}

namespace {

// "Usage: ghostpod NAME SYNOPSIS", broken before 96 columns with continuations under SYNOPSIS.
std::string usage_line(const Command& c) {
    std::string head = "Usage: ghostpod " + c.name + " ";
    std::string line = head, out;
    std::istringstream words{std::string(c.synopsis)};
    for (std::string w; words >> w;) {
        if (line.size() + w.size() > 96 && line.size() > head.size()) {
            out += line.substr(0, line.size() - 1) + "\n";
            line = std::string(head.size(), ' ');
        }
        line += w + " ";
    }
    return out + line.substr(0, line.size() - 1) + "\n";
}

}  // namespace

std::string help_text(const Command& c) {
    std::string text = usage_line(c) + "\n" + std::string(c.description);
    if (c.handler == nullptr) {
        text += "\n";
        for (const Command* sub : subcommands_of(c)) text += pad("  " + sub->name, 24) + std::string(sub->summary) + "\n";
    }
    bool first = true;
    for (const auto& o : c.options) {
        if (o.doc.empty()) continue;
        if (first) text += "\nOptions:\n";
        first = false;
        std::string left = "  " + (o.short_name.empty() ? "" : o.short_name + ", ") + o.name +
                           (o.value_name.empty() ? "" : " " + std::string(o.value_name));
        std::string doc(o.doc);
        text += left.size() + 2 > 26 ? left + "\n" + std::string(26, ' ') + doc + "\n" : pad(left, 26) + doc + "\n";
    }
    text += "\nSee ghostpod(1) for the details.\n";
    return text;
}

}  // namespace ghostpod
