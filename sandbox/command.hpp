// The last steps of a command started in the ghost, top to bottom as bubblewrap takes them:
// working directory, signal dispositions and mask, no core dumps, no capabilities, the seccomp
// filter (with no_new_privs), no descriptor beyond 0-2, exec.
#pragma once

#include <string>
#include <vector>

#include "vault/result.hpp"

namespace ghostpod::sandbox {

struct CommandSpec {
    std::vector<std::string> argv;  // argv[0] is looked up in PATH of `envp`
    char* const* envp = nullptr;    // the command's whole environment (the caller owns it)
    std::string cwd;                // where the user was; else $HOME, else /
};

// Runs the sequence and execs. Returns only on failure, with the step that failed; the caller
// exits 127 when the error's errno is ENOENT (no such command), else 126.
Error exec_command(const CommandSpec& spec);

}  // namespace ghostpod::sandbox
