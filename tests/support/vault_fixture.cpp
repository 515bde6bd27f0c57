#include "tests/support/vault_fixture.hpp"

#include <catch2/catch.hpp>

namespace ghostpod::test {

VaultFixture::VaultFixture(const std::string& kdf) : vault(dir / "vault"), passphrase(random_marker("pass-")) {
    auto r = run(ghostpod::test::gp(vault, {"init", "--kdf", kdf}), options());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(r.out.size() == 65);  // 64 characters and a newline
    recovery_key = r.out;
}

RunOptions VaultFixture::options(const std::string& stdin_data, const std::string& passphrase_line) const {
    RunOptions o;
    o.stdin_data = stdin_data;
    o.close_stdin = true;
    o.fd_data[3] = (passphrase_line.empty() ? passphrase : passphrase_line) + "\n";
    // Nothing of the caller's environment picks files or sockets: sessions live in the
    // fallback runtime directory whether or not the caller has an XDG_RUNTIME_DIR, so a test
    // that clears the environment (env -i) still finds the session it started.
    o.env = {{"HOME", dir.path()}, {"XDG_CONFIG_HOME", ""}, {"XDG_DATA_HOME", ""}, {"XDG_STATE_HOME", ""},
             {"XDG_RUNTIME_DIR", ""}, {"GHOSTPOD_VAULT", ""}, {"GHOSTPOD_CONFIG", ""}};
    o.cwd = dir.path();
    return o;
}

RunResult VaultFixture::gp(const std::vector<std::string>& args, const std::string& stdin_data) const {
    return run(ghostpod::test::gp(vault, args), options(stdin_data));
}

RunResult VaultFixture::gp_with(const std::vector<std::string>& args, const RunOptions& o) const {
    return run(ghostpod::test::gp(vault, args), o);
}

}  // namespace ghostpod::test
