// The certificate finder: find_certificates() on a secret value (PEM blocks, DER, talosconfig
// and kubeconfig YAML with base64 certificate fields), and certs_from_json() on the holder's
// wire form, which a client reads from the session socket.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pod/formats/certs.hpp"

using namespace ghostpod;

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> problems;
    auto certs = find_certificates("vault:fuzz", {data, size}, &problems);
    sort_worst_first(certs);
    for (const auto& c : certs) {
        (void)utc_time(c.not_after);
        (void)cert_status(c, 1767225600, kDefaultCertWarnDays);
    }
    if (!certs.empty()) {
        auto back = certs_from_json(certs_to_json(certs, 1767225600, kDefaultCertWarnDays));
        (void)back;
    }
    (void)certs_from_json(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
