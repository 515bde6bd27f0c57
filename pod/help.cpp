// Help texts. man/ghostpod.1 says the same at length; tests/pod/test_help.cpp keeps the two
// from drifting apart.
#include <unistd.h>

#include <map>
#include <span>
#include <string>

#include "pod/cli.hpp"
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
  lock                             end the session: every process and plaintext in it gone
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
  4 network or server failure; 5 session state (none running, already running)

See ghostpod(1), ghostpod-vault(5) and ghostpod-config(5).
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
    {"lock", R"(Usage: ghostpod lock

Ends the vault's session: ghost init is killed, and with it every process in the ghost; the RAM
mount goes with the last of them. Returns when they are gone. Exit 5 when no session is running.
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
