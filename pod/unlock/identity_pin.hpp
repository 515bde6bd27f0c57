// Where a machine identity may be sent: its backend's base URL and, for a private CA, the
// fingerprints of that CA, kept in the vault next to the identity (entry "<backend>.pin", kind
// identity: never in the ghost, never written by 'save'). A login sends the identity only to
// that URL over TLS verified against that CA (or the system's CAs when none is pinned); any
// other destination, whatever config, .infisical.json or variable names it, is refused before
// connecting. For every backend: Infisical ("infisical") now, HashiCorp Vault / OpenBao next.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vault/result.hpp"
#include "vault/vault.hpp"

namespace ghostpod {

struct IdentityPin {
    std::string backend;                 // "infisical", "vault": whose identity it is
    std::string base_url;                // canonical_url() of where the identity may go
    std::vector<std::string> ca_sha256;  // "AB:CD:…" of each certificate of the CA file; empty: the system's CAs
    std::string pinned_by;               // "identity set" or "first pull"
    std::uint64_t pinned_at = 0;
};

std::string pin_entry_name(std::string_view backend);  // "infisical.pin"
Result<std::optional<IdentityPin>> read_pin(const Vault& vault, std::string_view backend);
Status store_pin(Vault& vault, const IdentityPin& pin);
bool remove_pin(Vault& vault, std::string_view backend);

// "HTTPS://Host:443/api/" → "https://host/api": scheme and host in lower case, a default port
// dropped, no trailing slash; no user name or password, query or fragment. Errors (usage) say
// what is wrong with `url` and name `key` (the setting it came from).
Result<std::string> canonical_url(const std::string& url, const std::string& key);
// https anywhere; http only to a loopback address (127.0.0.0/8, ::1, localhost): anything else
// would carry the identity, the token and every value in clear text.
Status check_transport(const std::string& url, const std::string& key);
// The SHA-256 fingerprints of the certificates in a PEM file, sorted, without repeats (as
// 'openssl x509 -noout -fingerprint -sha256' prints them); an error when it holds none.
Result<std::vector<std::string>> ca_fingerprints(const std::string& pem_path);

// The pin of an identity sent to `base_url` with TLS verified by `cacert` (empty: the system's CAs).
Result<IdentityPin> make_pin(std::string backend, const std::string& base_url, const std::string& cacert,
                             std::string pinned_by, std::uint64_t now);
// Whether a login to `base_url` verified by `cacert` is where `pin` allows; refused with
// ErrorCode::usage naming both, and `repin_hint` (e.g. "ghostpod identity set --host URL").
Status check_pin(const IdentityPin& pin, const std::string& base_url, const std::string& cacert, const std::string& repin_hint);
// "https://host/api, TLS verified by the CA SHA256 AB:CD:…" (or "by the system's CAs").
std::string describe_pin(const IdentityPin& pin);

}  // namespace ghostpod
