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

namespace ghostpod {

// Set by the front's main; the full program leaves it unset.
using HandOver = void (*)(const std::string& why);
void set_hand_over(HandOver hand_over);

// In the front: execs the full program (does not return; a failure is reported, exit 1).
// `why` names what needs it, for that report. In the full program: returns at once.
void hand_over_if_front(const std::string& why);

// Whether the front runs `command` (a command table name, "secret set") itself.
bool front_serves(const std::string& command);

}  // namespace ghostpod
