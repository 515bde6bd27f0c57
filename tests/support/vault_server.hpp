// The fake Vault / OpenBao server (tests/support/fake_vault.py) as a real process on 127.0.0.1,
// over TLS with a throwaway CA by default. The world (which holds the role and secret IDs and
// the secret values) reaches the server through a pipe, never a file, so leak scans of /tmp
// stay meaningful. Each PKI mount of the world has its own real CA, made by the server at start.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace ghostpod::test {

struct FakeVaultOptions {
    bool tls = true;
    std::vector<std::string> faults;  // --fault SPEC, e.g. "429:kv:2:1", "503:login:1", "reset:renew:1"
};

class FakeVault {
public:
    explicit FakeVault(const std::string& world_json, FakeVaultOptions options = {});
    ~FakeVault();
    FakeVault(const FakeVault&) = delete;
    FakeVault& operator=(const FakeVault&) = delete;

    std::string url() const;      // "https://127.0.0.1:PORT" (http:// without TLS): VAULT_ADDR
    int port() const { return port_; }
    std::string ca_path() const;  // the PEM CA that signed the server's certificate: VAULT_CACERT
    // A PEM file holding the CA of PKI mount `mount` (in namespace `ns`, "" for the root), for
    // `openssl verify -CAfile` of what it signed. Stays the same across set_world.
    std::string pki_ca_path(const std::string& mount, const std::string& ns = {}) const;

    void set_faults(const std::vector<std::string>& faults) const;  // replaces the list; {} clears
    void set_world(const std::string& world_json) const;            // tokens stay valid
    nlohmann::json log() const;     // the --log file's entries, oldest first
    nlohmann::json tokens() const;  // {"active": [fp], "revoked": [fp], "expired": [fp]}

private:
    std::string curl(const std::string& method, const std::string& path, const std::string& body = {},
                     const std::vector<std::string>& extra = {}) const;
    nlohmann::json admin(const std::string& method, const std::string& route, const std::string& body = {}) const;

    FakeVaultOptions options_;
    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace ghostpod::test
