// The HashiCorp Vault / OpenBao client (../shared/vault-api.md): AppRole login, renew-self and
// revoke-self, KV v1 and v2 reads behind the mount preflight the `vault kv` commands make, and
// PKI sign. Over pod/net/http: TLS always verified, bounded retries on 429/5xx and dropped
// connections, a size cap. The token rides in X-Vault-Token (never on a login), the namespace in
// X-Vault-Namespace on every request. Errors (ErrorCode::network, errnum the HTTP status) show the
// status and the server's errors list, never a token or value.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "pod/hcvault/answers.hpp"
#include "pod/net/http.hpp"
#include "vault/result.hpp"

namespace ghostpod {

struct VaultTarget {
    std::string address;      // "https://vault.example.com:8200", no trailing '/'
    std::string auth_mount = "approle";
};

class VaultClient {
public:
    // `http.extra_headers` carries X-Vault-Namespace when a namespace is configured.
    static Result<VaultClient> create(const VaultTarget& target, const HttpSettings& http);

    Result<VaultToken> login(std::span<const std::uint8_t> role_id, std::span<const std::uint8_t> secret_id);
    Result<VaultToken> renew(const VaultToken& token);
    Status revoke(const VaultToken& token);
    // The mount holding `kv_path` ("MOUNT/PATH") and its KV version, as the server says.
    Result<KvMount> kv_mount(const VaultToken& token, const std::string& kv_path);
    // Every key of the secret at `kv_path`, appended to `into` (preflight, then the read).
    Status read_kv(const VaultToken& token, const std::string& kv_path, KvPulled& into);
    // Signs a CSR: POST MOUNT/sign/ROLE with common_name and ttl (seconds).
    Result<SignedCertificate> sign(const VaultToken& token, const std::string& mount, const std::string& role,
                                   const std::string& csr_pem, const std::string& common_name, std::uint64_t ttl_seconds);

    void start_budget() { http_.start_budget(); }
    const VaultTarget& target() const { return target_; }

private:
    VaultClient(VaultTarget target, HttpClient http) : target_(std::move(target)), http_(std::move(http)) {}
    // A 2xx (or `also_accepted`) response; any other status as an Error with the server's errors
    // and a hint about `topic` ("login", "renew", a KV path, "pki MOUNT/sign/ROLE").
    Result<HttpResponse> call(const std::string& step, const HttpRequest& request, const std::string& topic,
                              long also_accepted = 0);

    VaultTarget target_;
    HttpClient http_;
};

// Where the preflight's mount sits in `kv_path`: the secret's path below it ("talos" for mount
// "secret" of "secret/talos"). A mount that names a namespace too ("team/secret" asked as
// "secret/x" in namespace team) is cut to what the path holds; nullopt when it is not a prefix.
std::optional<std::string> path_below_mount(const std::string& kv_path, std::string& mount);

}  // namespace ghostpod
