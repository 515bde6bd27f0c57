// Which program this process is. ghostpod ships as two executables built from the same code:
//   the front (the `ghostpod` on PATH): static, maps no shared library at all, and serves the
//     commands that only join a running session or ask it something (run, shell, enter, status,
//     lock, help, --version); a join then costs what nsenter's does (tests/bench/REPORT.md);
//   the full program (beside the network module, in the library directory): everything else,
//     and every start of a session (unlock, holder, ghost, pull).
// The front hands a command over by exec'ing the full program with this process's argv and
// environment exactly as they came, before it has read, changed or started anything.
#pragma once

#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

// Set by the front's main; the full program leaves it unset.
using HandOver = void (*)(const std::string& why);
void set_hand_over(HandOver hand_over);

// In the front: execs the full program (does not return; a failure is reported, exit 1).
// `why` names what needs it, for that report. In the full program: returns at once.
void hand_over_if_front(const std::string& why);

// Whether the front runs `command` (a command table name, "secret set") itself.
bool front_serves(const std::string& command);

// The directory of this process's own executable (/proc/self/exe), "" when unreadable.
std::string own_directory();
// Opens the first of `candidates` that exists (absolute paths the caller derived from
// own_directory(), never from a search), without following a symbolic link, and checks it on
// that descriptor: a regular file owned by root, by this user or by the running executable's
// owner (`owner_name` in the message: "the binary's owner"), writable by no one else. `verb`
// ("load", "run") names the use in the refusal. `path` gets the candidate opened. No candidate:
// an error with what = `missing_what`, why = `missing_why`.
Result<UniqueFd> open_own_file(const std::vector<std::string>& candidates, const std::string& verb, const std::string& owner_name,
                               const std::string& missing_what, const std::string& missing_why, const std::string& missing_hint,
                               std::string& path);

}  // namespace ghostpod
