// The client side of Vault backend tests: a vault with an AppRole stored, a config whose
// "vault" section points at a FakeVault over TLS, and every ghostpod run's output kept (for
// "no value in the output" checks). Shared by test_vault_backend.cpp and test_vault_certs.cpp.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/vault_fixture.hpp"
#include "tests/support/vault_server.hpp"

namespace ghostpod::test {

// An AppRole "ops" at auth/approle whose tokens carry `token_marker` and policies `policies`.
nlohmann::json vault_approle(const std::string& role_id, const std::string& secret_id, const std::string& token_marker,
                             const nlohmann::json& extra = nlohmann::json::object());

struct VaultPuller {
    VaultFixture v;
    std::string config = v.dir / "config.json";
    std::string role_id, secret_id;
    std::vector<RunResult> history;

    // `vault` is merged over {"address": server, "cacert": its CA}; `top` over the whole config.
    VaultPuller(const FakeVault* server, const std::string& role_id, const std::string& secret_id,
                const nlohmann::json& vault = nlohmann::json::object(), const nlohmann::json& top = nlohmann::json::object());
    ~VaultPuller();  // locks any session the test left behind

    void configure(const FakeVault& server, const nlohmann::json& vault, const nlohmann::json& top = nlohmann::json::object());
    RunResult store_approle(const std::string& role, const std::string& secret);
    RunOptions options(const std::map<std::string, std::string>& env = {}, const std::string& stdin_data = {}) const;
    RunResult gp(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                 const std::string& stdin_data = {});
    // `pull [flags] -- sh -c SCRIPT` (no command when the script is empty).
    RunResult pull(const std::vector<std::string>& flags, const std::string& script = {},
                   const std::map<std::string, std::string>& env = {});
    RunResult in_ghost(const std::string& script) { return gp({"run", "--", "sh", "-c", script}); }
    std::string home(const std::string& rel) const { return v.dir / rel; }
};

// Entries of the server's request log on `route` ("login", "kv", "pki", "renew", "revoke", …).
std::vector<nlohmann::json> vault_log_entries(const nlohmann::json& log, const std::string& route);
// The server logs a request after answering it: waits (up to 5 s) until `done` holds.
nlohmann::json vault_log_when(const FakeVault& server, const std::function<bool(const nlohmann::json&)>& done);
bool json_has(const nlohmann::json& list, const std::string& item);

}  // namespace ghostpod::test
