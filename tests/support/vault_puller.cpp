#include "tests/support/vault_puller.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

namespace ghostpod::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

json vault_approle(const std::string& role_id, const std::string& secret_id, const std::string& token_marker, const json& extra) {
    json a = {{"mount", "approle"}, {"role_name", "ops"}, {"role_id", role_id}, {"secret_id", secret_id},
              {"token_ttl", "1h"}, {"token_max_ttl", "24h"}, {"token_marker", token_marker}};
    a.update(extra);
    return a;
}

VaultPuller::VaultPuller(const FakeVault* server, const std::string& role, const std::string& secret, const json& vault,
                         const json& top)
    : role_id(role), secret_id(secret) {
    if (server) configure(*server, vault, top);
    if (!role.empty()) {
        auto r = store_approle(role, secret);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    }
}

VaultPuller::~VaultPuller() { (void)gp({"lock", "--discard"}); }

void VaultPuller::configure(const FakeVault& server, const json& vault, const json& top) {
    json section = {{"address", server.url()}, {"cacert", server.ca_path()}};
    section.merge_patch(vault);
    json c = {{"version", 1}, {"vault", section}};
    c.merge_patch(top);
    write_text(config, c.dump(2));
}

RunResult VaultPuller::store_approle(const std::string& role, const std::string& secret) {
    return gp({"identity", "set", "--backend", "vault"}, {}, role + "\n" + secret + "\n");
}

RunOptions VaultPuller::options(const std::map<std::string, std::string>& env, const std::string& stdin_data) const {
    RunOptions o = v.options(stdin_data);
    for (const char* name : {"VAULT_ADDR", "VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_CAPATH", "VAULT_SKIP_VERIFY", "VAULT_TOKEN",
                             "INFISICAL_DOMAIN", "INFISICAL_API_URL", "INFISICAL_PROJECT_ID", "INFISICAL_TOKEN",
                             "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"})
        o.env[name] = "";
    for (auto& [k, val] : env) o.env[k] = val;
    return o;
}

RunResult VaultPuller::gp(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                          const std::string& stdin_data) {
    std::vector<std::string> full = {"--config", config};
    full.insert(full.end(), args.begin(), args.end());
    history.push_back(v.gp_with(full, options(env, stdin_data)));
    return history.back();
}

RunResult VaultPuller::pull(const std::vector<std::string>& flags, const std::string& script,
                            const std::map<std::string, std::string>& env) {
    std::vector<std::string> args = {"pull"};
    args.insert(args.end(), flags.begin(), flags.end());
    if (!script.empty()) args.insert(args.end(), {"--", "sh", "-c", script});
    return gp(args, env);
}

std::vector<json> vault_log_entries(const json& log, const std::string& route) {
    std::vector<json> out;
    for (const auto& e : log)
        if (e.value("route", "") == route) out.push_back(e);
    return out;
}

json vault_log_when(const FakeVault& server, const std::function<bool(const json&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    json log = server.log();
    while (!done(log) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        log = server.log();
    }
    return log;
}

bool json_has(const json& list, const std::string& item) { return std::find(list.begin(), list.end(), json(item)) != list.end(); }

}  // namespace ghostpod::test
