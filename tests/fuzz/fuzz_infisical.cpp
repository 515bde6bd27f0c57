// Infisical response handling: the SAX listing reader and merge rule (merge_listings), the
// login/renew answer (read_token_answer) and the error-body description (describe_server_error),
// all on server-controlled bytes. NUL bytes split the input into several listing bodies, as a
// pull of several paths reads them; the first body also goes to the other two readers.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pod/infisical/client.hpp"

using namespace ghostpod;

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<SecretBuffer> bodies;
    for (std::size_t start = 0; start <= input.size() && bodies.size() < 4;) {
        std::size_t end = input.find('\0', start);
        if (end == std::string_view::npos) end = input.size();
        auto body = SecretBuffer::copy_of({data + start, end - start});
        if (!body) return 0;
        bodies.push_back(std::move(*body));
        start = end + 1;
    }
    std::vector<const SecretBuffer*> pointers;
    for (const auto& b : bodies) pointers.push_back(&b);
    auto pulled = merge_listings(pointers, "https://fuzz.invalid/api");
    if (pulled) {
        for (const auto& s : pulled->secrets) {
            auto v = pulled->value(s);
            (void)v;
            (void)pulled->find(s.key);
        }
    }

    std::string_view first = bodies.front().view();
    (void)read_token_answer(first, "log in to https://fuzz.invalid/api");
    std::string message;
    (void)describe_server_error(422, first, 3, message);
    return 0;
}
