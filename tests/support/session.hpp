// Sessions seen from outside: the holder's status, the processes a session started, and waiting
// for them to be gone. Shared by the session, threat-model and other whole-binary tests.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/vault_fixture.hpp"

namespace ghostpod::test {

// `ghostpod status --json` of the fixture's vault, parsed (REQUIREs exit 0).
nlohmann::json status_of(const VaultFixture& v);
// Whether `pid` exists and is not a zombie.
bool alive(long pid);
// Host pids of live `sleep MARKER` processes.
std::vector<long> processes_with(const std::string& marker);
// Waits up to `limit` for all of `pids` and all processes carrying `marker` to be gone.
bool gone_within(std::vector<long> pids, const std::string& marker, std::chrono::milliseconds limit);
// A sleep duration unique to this test, to find its process by command line.
std::string unique_sleep();
// A session kept open by --linger, with a `sleep MARKER` inside; returns status's "session".
// `ttl` (e.g. "2s") ends it by itself; `options` default to the fixture's.
nlohmann::json start_lingering_session(const VaultFixture& v, const std::string& marker, const std::string& ttl = "");
nlohmann::json start_lingering_session(const VaultFixture& v, const std::string& marker, const RunOptions& options,
                                       const std::string& ttl = "");

// A vault for profile tests: aws/credentials, kube/config and a third secret `other_name`, and a
// project config whose profile "terraform" exposes aws/credentials only. `secrets_json` is the
// config's "secrets" object (mappings); `options` run ghostpod with that config.
struct ProfileVault {
    explicit ProfileVault(const std::string& other_name, const std::string& secrets_json = "{}");
    VaultFixture v;
    std::string aws = random_marker("aws-"), kube = random_marker("kube-"), other = random_marker("other-");
    RunOptions options;
};

}  // namespace ghostpod::test
