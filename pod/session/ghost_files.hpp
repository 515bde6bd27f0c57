// Writing secrets into the ghost's RAM mount and placing them at their mapped paths.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "pod/unlock/config.hpp"
#include "sandbox/ghost.hpp"
#include "vault/vault.hpp"

namespace ghostpod {

struct GhostEnv {
    std::string secret;     // the file in $GHOSTPOD_DIR it comes from
    std::string name;
    std::string path;       // a file in the ghost
    bool value_from_file;   // the variable holds the file's content, read at attach time
};

struct Placement {
    std::string secret;
    std::string target;
};

// What is in the ghost now.
struct Materialised {
    std::vector<std::string> secrets;  // names written to $GHOSTPOD_DIR
    std::vector<Placement> placements;
    std::vector<GhostEnv> env;
    // Each file's size and a keyed BLAKE2b of its value (the key random per session), so a
    // refresh finds what changed without reading the files back. One map for both: its names
    // are a large part of a 10,000-secret holder's memory.
    struct Facts {
        std::uint64_t size = 0;
        std::array<std::uint8_t, 32> digest{};
    };
    std::unordered_map<std::string, Facts> facts;  // looked up by name, never walked in order
    std::uint64_t bytes = 0;
};

// One file to have in the ghost.
struct GhostFile {
    std::string name;  // below $GHOSTPOD_DIR
    std::span<const std::uint8_t> value;
    std::uint16_t mode = 0400;
    // Boxed: most of a 10,000-secret pull have none, and a SecretMapping in place is 80 bytes each.
    std::unique_ptr<SecretMapping> mapping;
};

inline std::unique_ptr<SecretMapping> boxed(std::optional<SecretMapping> mapping) {
    return mapping ? std::make_unique<SecretMapping>(std::move(*mapping)) : nullptr;
}

struct GhostWriter {
    sandbox::Ghost& ghost;
    std::string ghost_dir;
    std::string home;
    std::uint64_t ram_limit = 0;
};

// The keyed digest `Materialised::facts` holds (the key is random per process).
std::array<std::uint8_t, 32> ghost_digest(std::span<const std::uint8_t> value);

// Makes each file exist with its value. New ones are created and placed; changed ones are
// replaced whole (a rename in $GHOSTPOD_DIR, a new bind over the mapped path), so a reader sees
// the old or the new value, and the old bytes are truncated away; unchanged ones are left alone.
// Checks the RAM limit before writing anything. `changed` (optional) receives the names written.
Status write_ghost_files(const GhostWriter& w, const std::vector<GhostFile>& files, Materialised& layout,
                         std::vector<std::string>* changed = nullptr);
// Removes files (and their placements and variables) from the ghost, wiping their bytes.
Status remove_ghost_files(const GhostWriter& w, const std::vector<std::string>& names, Materialised& layout);

// The vault's entries as ghost files: every entry but the Infisical identity and the pull cache,
// with the config's (or the built-in) mapping.
std::vector<GhostFile> vault_files(const Vault& vault, const Config& config);

// A file read back from the RAM mount.
struct GhostFileRead {
    std::string name;  // below $GHOSTPOD_DIR
    SecretBuffer value;
    std::uint16_t mode = 0400;
};

// Every regular file below the RAM mount's root (`dir`, a descriptor: never a path another
// process could swap), with its bytes. Links, devices and ghostpod's own working files are
// passed over; `unreadable` names files the holder could not open. Each file is handed to
// `visit` as it is read, so a caller that keeps none holds one at a time.
using GhostFileVisitor = std::function<Status(GhostFileRead&&)>;
Status read_ghost_tree(int dir, const std::string& prefix, int depth, const GhostFileVisitor& visit, std::size_t& count,
                       std::vector<std::string>& unreadable);

}  // namespace ghostpod
