// A command in the ghost, run from a client that has attached to the session.
#pragma once

#include <string>
#include <vector>

#include "pod/session/client.hpp"
#include "pod/session/launcher.hpp"

namespace ghostpod {

// A variable the caller adds to the command's environment (shell's prompt), after ours.
struct ExtraVariable {
    std::string name, value;
};
// Runs argv in the ghost and returns its exit status (128+N for a signal).
int run_attached(Attachment& a, const std::vector<std::string>& argv, const SessionOptions& options,
                 const std::vector<ExtraVariable>& extra = {});
// The names GHOSTPOD_SESSION carries: only [A-Za-z0-9._+@-] kept, anything else becomes '_', so
// they are safe in a prompt; profile "*" for the full view.
struct MarkerNames {
    std::string vault, profile;
};
MarkerNames marker_names(const Attachment& a);
// GHOSTPOD_SESSION's value: "vault=<name>;profile=<P or *>" (see ghostpod(1), ENVIRONMENT).
std::string session_marker(const Attachment& a);
// The vault's name in the marker: the project directory for <dir>/.ghostpod/vault, else the
// vault file's name.
std::string vault_display_name(const std::string& vault_path);
// The user's shell ($SHELL, else /bin/bash).
std::string user_shell();

}  // namespace ghostpod
