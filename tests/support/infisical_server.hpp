// The fake Infisical server (tests/support/fake_infisical.py) as a real process on 127.0.0.1,
// over TLS with a throwaway CA by default. The world (which holds the secret values) reaches
// the server through a pipe, never a file, so leak scans of /tmp stay meaningful.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace ghostpod::test {

struct FakeInfisicalOptions {
    bool tls = true;
    std::vector<std::string> faults;  // --fault SPEC, e.g. "429:secrets:2:1"
    int lockout_seconds = 300;
};

class FakeInfisical {
public:
    explicit FakeInfisical(const std::string& world_json, FakeInfisicalOptions options = {});
    ~FakeInfisical();
    FakeInfisical(const FakeInfisical&) = delete;
    FakeInfisical& operator=(const FakeInfisical&) = delete;

    std::string url() const;      // "https://127.0.0.1:PORT" (http:// without TLS)
    int port() const { return port_; }
    std::string ca_path() const;  // the PEM CA that signed the server's certificate

    void set_faults(const std::vector<std::string>& faults) const;  // replaces the list; {} clears
    void set_world(const std::string& world_json) const;            // tokens stay valid
    nlohmann::json log() const;     // the --log file's entries, oldest first
    nlohmann::json tokens() const;  // {"active": [fp], "revoked": [fp], "expired": [fp]}

private:
    nlohmann::json admin(const std::string& method, const std::string& route, const std::string& body = {}) const;

    FakeInfisicalOptions options_;
    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace ghostpod::test
