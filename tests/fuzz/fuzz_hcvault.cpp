// HashiCorp Vault / OpenBao answers and the file a per-session certificate goes into, on
// server- and file-controlled bytes: the login/renew answer, the mount preflight, KV v1 and v2
// reads, the 404 of a deleted version, PKI sign answers, the errors list; and the kubeconfig /
// talosconfig rewrite (set_client_certificate), whose output must parse again as YAML.
#include <sodium.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pod/formats/client_cert.hpp"
#include "pod/hcvault/answers.hpp"
#include "vault/unique_fd.hpp"

using namespace ghostpod;

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    (void)read_auth_answer(input, "log in");
    (void)read_mount_answer(input, "preflight");
    KvPulled pulled;
    (void)read_kv_answer(input, 2, "secret", "a", pulled, "read");
    (void)read_kv_answer(input, 1, "kv", "b", pulled, "read");
    for (const auto& s : pulled.secrets) (void)pulled.value(s);
    (void)deleted_version(input);
    (void)read_sign_answer(input, "sign");
    (void)describe_vault_error(503, input, 2);

    static const std::string cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    static const std::string key = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n";
    for (ClientCertFormat format : {ClientCertFormat::kubeconfig, ClientCertFormat::talosconfig}) {
        for (const char* name : {"", "alice"}) {
            auto written = set_client_certificate({data, size}, {format, name}, text_bytes(cert), text_bytes(key));
            if (!written) continue;
            try {
                YAML::Node again = YAML::Load(std::string(written->view()));
                if (!again.IsMap()) __builtin_trap();  // what was written must be a document holding a map
            } catch (const YAML::Exception&) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
