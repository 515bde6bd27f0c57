// A command in the ghost, run from a client that has attached to the session.
#pragma once

#include <string>
#include <vector>

#include "pod/session/client.hpp"
#include "pod/session/launcher.hpp"

namespace ghostpod {

// Runs argv in the ghost and returns its exit status (128+N for a signal).
int run_attached(Attachment& a, const std::vector<std::string>& argv, const SessionOptions& options);
// The user's shell ($SHELL, else /bin/bash).
std::string user_shell();

}  // namespace ghostpod
