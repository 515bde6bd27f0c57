// Writing vault secrets into the ghost's RAM mount and placing them at their mapped paths.
#pragma once

#include <string>
#include <vector>

#include "pod/config.hpp"
#include "sandbox/ghost.hpp"
#include "vault/vault.hpp"

namespace ghostpod {

struct GhostEnv {
    std::string secret;     // the vault entry it comes from
    std::string name;
    std::string path;       // a file in the ghost
    bool value_from_file;   // the variable holds the file's content, read at attach time
};

struct Placement {
    std::string secret;
    std::string target;
};

struct Materialised {
    std::vector<std::string> secrets;  // names written to $GHOSTPOD_DIR
    std::vector<Placement> placements;
    std::vector<GhostEnv> env;
    std::uint64_t bytes = 0;
};

// Every entry becomes $GHOSTPOD_DIR/<name> (mode from the entry); mapped ones also appear at
// their path and/or variable. Stops with an error before exceeding the RAM limit.
Result<Materialised> materialise(sandbox::Ghost& ghost, const std::string& ghost_dir, const Vault& vault,
                                 const Config& config, const std::string& home);

}  // namespace ghostpod
