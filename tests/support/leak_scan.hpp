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

}  // namespace ghostpod::test
