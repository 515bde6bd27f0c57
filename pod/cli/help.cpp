// Help texts. man/ghostpod.1 says the same at length; tests/unit/pod/cli/test_help.cpp keeps the two
// from drifting apart.
#include <unistd.h>

#include <map>
#include <span>
#include <string>

#include "pod/cli/args.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

const char* const kOverview = R"(ghostpod - keys in RAM, only for the tools that need them

Usage: ghostpod [GLOBAL OPTIONS] COMMAND [ARGS]

Commands:
  init [--kdf PROFILE] [--user]    create a new encrypted vault
  secret set NAME [--file PATH]    store a secret (value from stdin unless --file)
  secret get NAME                  write a secret's bytes to stdout, exactly
  secret ls [--json]               list secrets: names and metadata, never values
  secret rm NAME                   remove a secret
  secret generate age NAME [--force]
                                   a new age identity in the vault; prints its recipient
  passwd [--new-passphrase-fd N]   change the passphrase (the data is not re-encrypted)
  run [--profile P] [--ttl D] [--linger D] -- CMD [ARGS]
                                   run one command in the ghost (joins the running session,
                                   or starts one that ends with the command)
  shell [--profile P] [--ttl D] [--linger D]
                                   an interactive shell in the ghost (joins or starts)
  enter [--profile P]              another shell in the running session
  pull [--no-shell] [--offline] [--cacert FILE] [--env ENV] [-q] [-- CMD [ARGS]]
                                   unlock, open the ghost, pull Infisical secrets into it, then
                                   a shell or CMD (in a running session: refresh the pull)
  identity set [--from-fd N]       store the Infisical machine identity (client id and secret)
  identity show                    print the stored client id (never the secret)
  identity rm                      remove the machine identity from the vault
  certs [--warn-days N] [--json]   certificates in the vault or the ghost, worst first; exit 6
                                   when one expires within N days (default 30) or has expired
  import tazpod FILE [--skip-unsafe] [--overwrite]
                                   bring TazPod's vault.tar.aes into the vault (in memory only)
  import dotenv FILE [--overwrite]
                                   store a .env file's variables as env secrets
  save [--force] [--json]          write files changed or created in the ghost back to the vault
  lock [--discard]                 end the session: every process and plaintext in it gone
  status [--json]                  the vault, the session and the memory-protection posture
  help [COMMAND]                   this text, or one command's

Global options:
  --vault FILE           the vault (also GHOSTPOD_VAULT); default: .ghostpod/vault found
                         upward from the working directory, else $XDG_DATA_HOME/ghostpod/vault
  --config FILE          the config (also GHOSTPOD_CONFIG); default: .ghostpod/config.json
                         found upward, else $XDG_CONFIG_HOME/ghostpod/config.json
  --passphrase-fd N      read the passphrase from file descriptor N, not the terminal
  --recovery-key-fd N    unlock with the recovery key read from file descriptor N
  -h, --help             show help;  --version  show the version

Exit codes:
  0 ok; 1 runtime failure; 2 usage error; 3 wrong passphrase or damaged vault;
  4 network or server failure; 5 session state (none running, already running);
  6 certs: a certificate expires within the warning window or has expired;
  7 save conflict: the vault changed elsewhere

See ghostpod(1), ghostpod-vault(5) and ghostpod-config(5).
)";

// Under both "secret generate" and "secret generate age" (the overview lists the latter).
const char* const kSecretGenerateHelp = R"(Usage: ghostpod secret generate age NAME [--force]

Makes a new age X25519 identity (as age-keygen does) and stores it in the vault as the file
secret NAME (mode 0400, source generated:age), with the text age-keygen writes: the creation
time, the public key, and the AGE-SECRET-KEY-1... line. The identity is made in locked memory
and never written anywhere but the encrypted vault. Prints the recipient (age1...) on stdout;
encrypt to it with 'age -r age1...' or list it in .sops.yaml.

Name it sops/age/keys.txt and sops and age find it inside the ghost at their default path
~/.config/sops/age/keys.txt (and SOPS_AGE_KEY_FILE points there).

Options:
  --force         replace an existing secret NAME (its old identity is lost)
)";

const std::map<std::string, const char*> kCommandHelp = {
    {"init", R"(Usage: ghostpod init [--kdf interactive|moderate|sensitive] [--user]

Creates a new vault and prints its recovery key once, on stdout. The passphrase is asked
twice on the terminal, or read from --passphrase-fd N (one line).

Where: --vault FILE or GHOSTPOD_VAULT if given; with --user, $XDG_DATA_HOME/ghostpod/vault;
otherwise .ghostpod/vault in the working directory, together with .ghostpod/config.json (no
secrets, safe to commit) and .ghostpod/.gitignore (keeps the vault out of Git).

Options:
  --kdf PROFILE   Argon2id cost: interactive (64 MiB, ~0.15 s), moderate (256 MiB, ~0.7 s;
                  the default) or sensitive (1 GiB, ~3.5 s), measured on a 2-core machine
  --user          create the user's own vault instead of a project vault
)"},
    {"secret", R"(Usage: ghostpod secret set NAME [--file PATH] [--kind KIND] [--mode MODE]
       ghostpod secret get NAME
       ghostpod secret ls [--json]
       ghostpod secret rm NAME
       ghostpod secret generate age NAME [--force]

Run 'ghostpod secret SUBCOMMAND --help' for one subcommand.
)"},
    {"secret set", R"(Usage: ghostpod secret set NAME [--file PATH] [--kind KIND] [--mode MODE]

Stores a secret, replacing any of the same name. The value is read from stdin (bytes exact,
to end of file; on a terminal: one hidden line) or from --file PATH.

NAME: letters, digits and . _ - @ +, with / between folder names (e.g. kube/config).

Options:
  --file PATH     read the value from PATH instead of stdin
  --kind KIND     file (default), env, identity or token-cache
  --mode MODE     octal file mode the secret gets inside a session (default 0400)
)"},
    {"secret get", R"(Usage: ghostpod secret get NAME

Writes the secret's bytes to stdout exactly, with nothing added.
)"},
    {"secret ls", R"(Usage: ghostpod secret ls [--json]

Lists secrets with kind, size, mode, update time and source. Never prints values.

Options:
  --json          one JSON array of objects instead of a table
)"},
    {"secret generate", kSecretGenerateHelp},
    {"secret generate age", kSecretGenerateHelp},
    {"secret rm", R"(Usage: ghostpod secret rm NAME

Removes a secret. The previous generation of the vault stays in <vault>.bak until the next write.
)"},
    {"passwd", R"(Usage: ghostpod passwd [--new-passphrase-fd N] [--kdf PROFILE]

Changes the passphrase: the data key is re-wrapped under the new passphrase; the data itself
is not re-encrypted. Unlock with the current passphrase (terminal or --passphrase-fd) or with
the recovery key (--recovery-key-fd) when the passphrase is lost.

Options:
  --new-passphrase-fd N   read the new passphrase from file descriptor N (one line);
                          may be the same descriptor as --passphrase-fd (next line)
  --kdf PROFILE           Argon2id cost for the new passphrase (default: keep the current one)
)"},
    {"status", R"(Usage: ghostpod status [--json]

Shows the vault (path, size, entries, generation, keyslots and their KDF), the config, and the
memory-protection posture (core dumps, memfd_secret, RLIMIT_MEMLOCK, swap). Needs no
passphrase and never shows a value. Exit 0 with a readable vault, 1 when there is none,
3 when its header is damaged.

Options:
  --json          one JSON object instead of text
)"},
    {"run", R"(Usage: ghostpod run [--profile P] [--ttl D] [--linger D] -- CMD [ARGS]

Runs CMD inside the ghost: a private user, mount, pid and IPC namespace whose RAM mount holds
the vault's secrets ($GHOSTPOD_DIR/<name>, plus mapped paths such as ~/.kube/config and
variables such as KUBECONFIG; see ghostpod-config(5)). Joins the vault's running session in
milliseconds; with none, unlocks the vault, starts a session, runs CMD and ends the session
when CMD ends (unless --linger keeps it). The command runs with no capabilities, no_new_privs,
a seccomp filter (no ptrace, no TIOCSTI, no new user namespaces), no core dumps, only
descriptors 0-2 and an environment reduced to an allowlist. Exits with CMD's exit code
(128+N when killed by signal N).

Options:
  --profile P     see only the secrets the config's profile P lists: a view of its own (mount and
                  pid namespaces) without the others' files, paths or variables
  --ttl D         a new session ends after D at the latest (default 8h; 90s, 15m, 8h, 2d)
  --linger D      a new session stays D after its last command ends (default 0)
)"},
    {"shell", R"(Usage: ghostpod shell [--profile P] [--ttl D] [--linger D]

An interactive $SHELL (else /bin/bash) in the ghost, as 'run' would start it: joins the running
session or starts one that ends when the last attached shell or command ends (plus --linger).

Options:
  --profile P     see only the secrets of the config's profile P (as for run)
  --ttl D         a new session ends after D at the latest (default 8h)
  --linger D      a new session stays D after its last command ends (default 0)
)"},
    {"enter", R"(Usage: ghostpod enter [--profile P]

Another interactive shell in the running session. Exit 5 when no session is running.

Options:
  --profile P     see only the secrets of the config's profile P (as for run)
)"},
    {"pull", R"(Usage: ghostpod pull [--no-shell] [--offline] [--cacert FILE] [--env ENV] [-q|--quiet]
                     [--ttl D] [--linger D] [--profile P] [-- CMD [ARGS]]

Unlocks the vault, opens the ghost (or joins the running session), logs in to Infisical with the
machine identity in the vault (Universal Auth), pulls the configured folders into the ghost, and
opens a shell there, or runs CMD. Every pulled key appears as $GHOSTPOD_DIR/infisical/KEY (0400);
mapped keys also at their path and variable (built in: SOPS_AGE_KEY, TALOSCONFIG, KUBECONFIG).

In a running session, pull refreshes the pulled secrets: all are fetched first, and a failed
refresh leaves the previous contents. The session's token is renewed at 80% of its lifetime and
revoked when the session ends. Each online pull is kept as an encrypted offline cache in the vault.

Options:
  --no-shell     leave the session running (until 'ghostpod lock' or its TTL) and return
  --offline      use the offline cache of the last pull; the server is not contacted
                 (it is also used, with a warning naming its age, when the server is unreachable)
  --cacert FILE  trust this PEM CA bundle for the server's certificate (a private CA)
  --env ENV      the Infisical environment slug (default: infisical.environment, .infisical.json, dev)
  -q, --quiet    no status line and no summary (errors and warnings are still printed)
  --ttl, --linger, --profile   as for 'ghostpod run'

The server, project, folders and mappings come from the config's "infisical" section (see
ghostpod-config(5)), .infisical.json and the INFISICAL_* variables. Exit 4 when the server cannot
be reached or refuses, with its message and reqId; otherwise as for 'ghostpod run'.
)"},
    {"identity", R"(Usage: ghostpod identity set [--from-fd N] | identity show | identity rm

The Infisical machine identity (a Universal Auth client id and client secret) that 'pull' logs in
with, kept in the vault and never written anywhere else.

  set [--from-fd N]   read the client id and then the client secret, one line each, from stdin
                      (asked for on a terminal, the secret with echo off) or from descriptor N
  show                print the client id and whether a secret is stored (never the secret)
  rm                  remove both from the vault

INFISICAL_UNIVERSAL_AUTH_CLIENT_ID and INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET, when both are set,
are used instead (as the official CLI does); INFISICAL_TOKEN skips the login altogether.
)"},
    {"identity set", R"(Usage: ghostpod identity set [--from-fd N]

Reads the client id and then the client secret, one line each, from stdin (asked for on a
terminal, the secret with echo off) or from descriptor N, and stores them in the vault.
)"},
    {"identity show", R"(Usage: ghostpod identity show

Prints the stored client id and whether a client secret is stored. The secret is never printed.
)"},
    {"identity rm", R"(Usage: ghostpod identity rm

Removes the machine identity from the vault.
)"},
    {"import", R"(Usage: ghostpod import tazpod FILE [--tazpod-passphrase-fd N] [--skip-unsafe] [--overwrite]
       ghostpod import dotenv FILE [--overwrite]

Brings secrets kept elsewhere into the vault. Nothing is decrypted or parsed on disk, and no
value is ever printed. Names already in the vault are refused unless --overwrite.

Run 'ghostpod import SOURCE --help' for one source.
)"},
    {"import tazpod", R"(Usage: ghostpod import tazpod FILE [--tazpod-passphrase-fd N] [--skip-unsafe] [--overwrite]

Imports a TazPod vault (vault.tar.aes: AES-256-GCM over a gzipped tar) into this vault,
decrypting, inflating and reading the tar in locked memory only. Each regular file becomes a
file secret named by its path in the archive (a leading ./ removed; a/b/c.txt stays a/b/c.txt),
with the owner bits of its mode (at least 0400) and source tazpod:FILE. TazPod's .vault_pass
(its plaintext copy of the passphrase) is left out. The TazPod passphrase is asked on the
terminal; then this vault's passphrase, as for every command.

Absolute paths, paths with '..', links, devices, FIFOs and names a secret cannot have are
refused, each named: nothing is imported unless --skip-unsafe. A wrong TazPod passphrase or a
damaged or truncated archive exits 3.

Options:
  --tazpod-passphrase-fd N   read the TazPod passphrase from descriptor N (one line); may be
                             the same descriptor as --passphrase-fd (TazPod's line first)
  --skip-unsafe              import the other files and list the refused entries
  --overwrite                replace secrets of the same name
)"},
    {"import dotenv", R"(Usage: ghostpod import dotenv FILE [--overwrite]

Stores each variable of a .env file (FILE, or - for stdin) as an env secret named KEY, source
dotenv:FILE. Reads KEY=value lines with an optional 'export ', # comments, 'single quotes'
(literal) and "double quotes" (\n \t \r \" \\ escapes); quoted values may span lines. Values
are not expanded: $OTHER stays as written. An error names the line, never its text.

In a session each variable is the file $GHOSTPOD_DIR/KEY; to have the variable KEY set too,
map it in the config: "secrets": {"KEY": {"env": "KEY", "env_value": true}}.

Options:
  --overwrite     replace secrets of the same name
)"},
    {"lock", R"(Usage: ghostpod lock [--discard]

Ends the vault's session: ghost init is killed, and with it every process in the ghost; the RAM
mount goes with the last of them. Returns when they are gone. Exit 5 when no session is running.

With "session": {"save_on_lock": true} in the config, lock first saves the ghost's changes as
'ghostpod save' does; if that fails (exit 7 when the vault changed elsewhere), the session stays
up and nothing is written.

Options:
  --discard   end the session without saving, whatever the config says
)"},
    {"save", R"(Usage: ghostpod save [--force] [--json]

Writes files changed or created in the running session's ghost back to the vault: every file
below $GHOSTPOD_DIR, which includes the mapped paths (~/.talos/config, ~/.kube/config, …, bound
from there), so an edit made by 'talosctl config merge' or a rotated kubeconfig is kept. Works
from inside the session or outside it; asks for no passphrase (the session holds the data key).

A changed entry keeps its kind and mode; a new file becomes a file entry named by its path below
$GHOSTPOD_DIR. Not saved: pulled Infisical secrets (a pull brings them again), names starting
with 'infisical', and files the session cannot read. A file removed in the ghost stays in the
vault (say 'ghostpod secret rm NAME'). The write is atomic: the vault holds the old or the new
generation, never a mix. Tools must rewrite a mapped file in place (a rename over it fails,
since it is a bind mount); make it writable first with chmod u+w inside the ghost.

Exit 7 when the vault was changed elsewhere (another 'secret set', another session) since this
session unlocked it: nothing is written. Options:
  --force   write this session's changed files over the newer vault (its other entries stay)
  --json    print what was saved as JSON
)"},
    {"certs", R"(Usage: ghostpod certs [--warn-days N] [--json]

Finds every X.509 certificate and prints, worst first, its status, the whole days left, notAfter
(UTC), where it is, its subject and its issuer. Looked at: PEM files (CERTIFICATE blocks), DER
files, the base64 fields contexts.NAME.ca and .crt of a talosconfig, and
certificate-authority-data and client-certificate-data of a kubeconfig. Keys are never decoded
nor shown.

With a session running, the certificates in its ghost are listed ("ghost:NAME") and no
passphrase is asked. Otherwise the vault is unlocked for reading: every entry but identities
("vault:NAME contexts.prod.crt", "vault:NAME PEM block 2"), and the values of the offline cache
of the last pull ("cache:KEY"). A value that looks like a certificate but cannot be read gives
a warning naming the entry, never its bytes. No certificates: a note on stderr, exit 0.

Exit 0 when every certificate has at least N whole days left; exit 6 when any expires within
them or has expired. For CI:
  printf '%s\n' "$RECOVERY_KEY" | ghostpod --recovery-key-fd 0 certs --warn-days 30

Options:
  --warn-days N   the warning window in days, 0 to 36500 (default 30; 0: only expired ones fail)
  --json          a JSON array: source, subject, issuer, not_before, not_after (ISO 8601 UTC),
                  days_left, status ("expired", "expiring" or "ok")
)"},
    {"help", R"(Usage: ghostpod help [COMMAND]

Shows the overview, or the help of one command (e.g. 'ghostpod help secret set').
)"},
};

}  // namespace

bool print_help(const std::string& command) {
    const char* text = nullptr;
    if (command.empty()) {
        text = kOverview;
    } else if (auto it = kCommandHelp.find(command); it != kCommandHelp.end()) {
        text = it->second;
    } else {
        return false;
    }
    std::string s = text;
    (void)write_all(STDOUT_FILENO, text_bytes(s), "write help");
    return true;
}

}  // namespace ghostpod
