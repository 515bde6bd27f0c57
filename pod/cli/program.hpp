// Which program this process is. ghostpod ships as two executables built from the same code:
//   the front (the `ghostpod` on PATH): static, maps no shared library at all, and serves the
//     commands that only join a running session or ask it something (run, shell, enter, status,
//     lock, help, --version); a join then costs what nsenter's does (tests/bench/REPORT.md);
//   the full program (beside the network module, in the library directory): everything else,
//     and every start of a session (unlock, holder, ghost, pull).
// The front hands a command over by exec'ing the full program with this process's argv and
// environment exactly as they came, before it has read any input, written any file or started anything.
#pragma once

#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

// Set by the front's main; the full program leaves it unset.
using HandOver = void (*)(const std::string& why);
void set_hand_over(HandOver hand_over);
// Whether this process is the front (set_hand_over was called).
bool is_front();

// In the front: execs the full program (does not return; a failure is reported, exit 1).
// `why` names what needs it, for that report. In the full program: returns at once.
void hand_over_if_front(const std::string& why);

// Whether the front runs `command` (a command table name, "secret set") itself.
bool front_serves(const std::string& command);

// The directory of this process's own executable (/proc/self/exe), "" when unreadable.
std::string own_directory();
// A file ghostpod runs or loads from beside itself: `start` (a directory derived from
// own_directory(), never from a search) and the path below it, "a/b/file".
struct OwnFile {
    std::string start;
    std::string below;
    std::string display() const { return start + "/" + below; }
};
// Opens the first of `candidates` that exists, walking from its start one component at a time
// with openat2 (no symbolic link, no escape from the start, no magic link), and checks each
// directory on the way (owned by root, by you or by the running executable's owner; writable by
// no one else: else the candidate counts as absent) and the file on its descriptor (a regular
// file owned so, writable by no one else, and not this very executable). `verb` ("load", "run")
// and `owner_name` ("the binary's owner") word the refusal; `path` gets the candidate opened.
// No candidate: an error with `missing_what`, `missing_why`, `missing_hint`.
Result<UniqueFd> open_own_file(const std::vector<OwnFile>& candidates, const std::string& verb, const std::string& owner_name,
                               const std::string& missing_what, const std::string& missing_why, const std::string& missing_hint,
                               std::string& path);

}  // namespace ghostpod
