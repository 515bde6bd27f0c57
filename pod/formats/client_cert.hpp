// Putting a client certificate and its key into a kubeconfig user (client-certificate-data,
// client-key-data) or a talosconfig context (crt, key), base64 of the PEM as both tools read
// them. A pure function over bytes: everything else in the file stays as it was, key order and
// scalar types included (the text is written anew from the parsed document, so comments and
// layout do not survive). The result lives in secret memory.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

enum class ClientCertFormat { kubeconfig, talosconfig };

struct ClientCertPlace {
    ClientCertFormat format = ClientCertFormat::kubeconfig;
    std::string name;  // the kubeconfig user / talosconfig context; empty: the current context's
};

// `file` with the certificate and key set at `place`. A kubeconfig's user loses its
// client-certificate and client-key (file paths), which kubectl would refuse next to the data.
// `chosen` (optional) receives the user or context written to. Errors (ErrorCode::usage) name
// what is missing or malformed, never a byte of the file.
Result<SecretBuffer> set_client_certificate(std::span<const std::uint8_t> file, const ClientCertPlace& place,
                                            std::span<const std::uint8_t> cert_pem, std::span<const std::uint8_t> key_pem,
                                            std::string* chosen = nullptr);

}  // namespace ghostpod
