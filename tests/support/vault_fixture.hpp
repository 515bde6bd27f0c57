// A throwaway vault made by the real binary, and a way to run ghostpod against it with the
// passphrase on fd 3, HOME in the scratch directory and the XDG variables unset.
#pragma once

#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace ghostpod::test {

class VaultFixture {
public:
    explicit VaultFixture(const std::string& kdf = "interactive");

    RunOptions options(const std::string& stdin_data = {}, const std::string& passphrase_line = {}) const;
    RunResult gp(const std::vector<std::string>& args, const std::string& stdin_data = {}) const;
    RunResult gp_with(const std::vector<std::string>& args, const RunOptions& options) const;
    RunResult set(const std::string& name, const std::string& value) const { return gp({"secret", "set", name}, value); }
    RunResult get(const std::string& name) const { return gp({"secret", "get", name}); }

    TempDir dir;
    std::string vault;
    std::string passphrase;
    std::string recovery_key;
};

}  // namespace ghostpod::test
