// A vault and config ready to pull from the fake Infisical server: the identity "id"/"secret"
// in the vault, the config naming the server, its CA, project proj-1 and environment dev.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/infisical_server.hpp"
#include "tests/support/vault_fixture.hpp"

namespace ghostpod::test {

// A world whose proj-1/dev root folder holds `secrets` (KEY → value), for identity id/secret.
std::string one_folder_world(const nlohmann::json& secrets);
// Writes the config at `config_path` (`extra` merged into the top level, e.g. profiles, and
// into "infisical" when it has that key) and stores the identity in `v`'s vault.
void prepare_pull(const VaultFixture& v, const FakeInfisical& server, const std::string& config_path,
                  const nlohmann::json& extra = nlohmann::json::object());
// `v.options()` with the config, and no INFISICAL_* variable of the caller's.
RunOptions pull_options(const VaultFixture& v, const std::string& config_path);

}  // namespace ghostpod::test
