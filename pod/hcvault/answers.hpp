// What a HashiCorp Vault / OpenBao server answers, read from its JSON (../shared/vault-api.md):
// tokens from AppRole login and renew-self, the KV mount preflight, KV v1 and v2 secrets, PKI
// signatures, and the {"errors": [...]} of any failure. Pure functions over bytes (fuzzed in
// tests/fuzz/fuzz_hcvault.cpp); tokens and values go straight to secret memory and the parser's
// copies are zeroed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

struct VaultToken {
    SecretBuffer token;
    std::uint64_t lease_seconds = 0;  // 0: it does not expire
    bool renewable = false;
    std::uint64_t obtained_at = 0;    // unix time
};

// A KV engine's mount as the preflight (sys/internal/ui/mounts/PATH) tells it.
struct KvMount {
    std::string mount;  // without the trailing '/'; empty when the server has no preflight (v1 then)
    int version = 1;
};

// One key of a KV secret, its value in KvPulled::values.
struct KvSecret {
    std::string mount, path, key;
    std::size_t offset = 0, length = 0;
    // Where it appears: "vault/MOUNT/PATH/KEY" below $GHOSTPOD_DIR.
    std::string ghost_name() const { return "vault/" + mount + "/" + path + "/" + key; }
};

struct KvPulled {
    std::vector<KvSecret> secrets;     // in the order of vault.kv, then by key
    SecretBuffer values;               // all values, back to back
    std::vector<std::string> skipped;  // "MOUNT/PATH/KEY" of keys that cannot be file names
    std::span<const std::uint8_t> value(const KvSecret& s) const { return {values.data() + s.offset, s.length}; }
};

struct SignedCertificate {
    std::string certificate;  // PEM, the leaf
    std::string chain;        // PEM: ca_chain (else issuing_ca), for whoever wants the issuer
    std::string serial_number;
    std::int64_t expiration = 0;
    std::vector<std::string> warnings;  // e.g. the role capped the TTL
};

// "403 permission denied", "400 invalid role or secret ID; …", "503 Vault is sealed after 3
// attempts": the status and the server's errors (printable, cut), never anything else of the body.
std::string describe_vault_error(long status, std::string_view body, unsigned attempts);

// The "auth" object of a 2xx login or renew-self answer.
Result<VaultToken> read_auth_answer(std::string_view body, const std::string& step);
// The preflight's "data": a kv mount's path and options.version. Other engines are refused.
Result<KvMount> read_mount_answer(std::string_view body, const std::string& step);
// The keys of one KV secret (v2: data.data, v1: data) appended to `into` as MOUNT/PATH/KEY.
// A string value is its bytes; any other JSON value (number, boolean, null, object, list) its
// compact JSON text. Keys that cannot be file names are listed in `into.skipped`.
Status read_kv_answer(std::string_view body, int version, const std::string& mount, const std::string& path,
                      KvPulled& into, const std::string& step);
// A 404 of a v2 read that carries data.metadata: the latest version was deleted or destroyed.
// Returns its version number then, else 0.
std::uint64_t deleted_version(std::string_view body);
// The certificate of a 2xx pki/sign answer.
Result<SignedCertificate> read_sign_answer(std::string_view body, const std::string& step);

}  // namespace ghostpod
