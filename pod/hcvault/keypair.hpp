// The key pair of a client certificate issued per session: made in this process, in secret
// memory, and never sent anywhere; only its certificate request (CSR) goes to Vault to be signed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

struct ClientKeyPair {
    SecretBuffer private_key_pem;             // PKCS#8 "PRIVATE KEY", as kubectl and talosctl read it
    std::string csr_pem;                      // "CERTIFICATE REQUEST" for CN=common_name, signed by the key
    std::vector<std::uint8_t> public_key_der;  // SubjectPublicKeyInfo, to check what comes back
};

// `key_type` "ec" (P-256, ECDSA with SHA-256) or "ed25519". OpenSSL's copies of the private key
// are cleared when freed (its *_clear_free paths; the PEM is written to a secure-heap BIO and
// cleansed), and live in OpenSSL's locked secure heap where it could be set up.
Result<ClientKeyPair> make_client_key_pair(const std::string& key_type, const std::string& common_name);

// Whether the PEM certificate certifies `public_key_der` (Vault signed our request, not another).
bool certificate_has_key(const std::string& certificate_pem, const std::vector<std::uint8_t>& public_key_der);

}  // namespace ghostpod
