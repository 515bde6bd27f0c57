// Searching the places a careless program writes to for bytes that must never be there.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ghostpod::test {

// Regular files under `root` (not following links, files up to 64 MiB) containing any needle,
// except the `excluded` ones.
std::vector<std::string> files_containing(const std::filesystem::path& root, const std::vector<std::string>& needles,
                                          const std::vector<std::filesystem::path>& excluded = {});

// The /proc/PID/cmdline and /proc/PID/environ files this process may read that hold any needle.
std::vector<std::string> processes_holding(const std::vector<std::string>& needles);

}  // namespace ghostpod::test
