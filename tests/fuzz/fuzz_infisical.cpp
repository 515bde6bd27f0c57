// Infisical response handling: the listing reader and merge rule (merge_listings, over the push
// parser of pod/net/json_stream.hpp), the login/renew answer (read_token_answer) and the
// error-body description (describe_server_error), all on server-controlled bytes. NUL bytes
// split the input into several listing bodies, as a pull of several paths reads them; the first
// body also goes to the other two readers. Each body also goes to the push parser alone, in two
// pieces split where its first byte says: it must accept exactly what nlohmann's strict parser
// accepts (a difference aborts), nesting beyond its limit aside (bodies hold no NUL byte, which
// nlohmann reads as the end of the input and the push parser refuses).
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pod/infisical/client.hpp"
#include "pod/net/json_stream.hpp"

using namespace ghostpod;

namespace {

class Discard : public JsonEvents {
public:
    bool scalar() override { return true; }
    bool string(std::span<const std::uint8_t>) override { return true; }
    bool key(std::span<const std::uint8_t>) override { return true; }
    bool start_object() override { return true; }
    bool end_object() override { return true; }
    bool start_array() override { return true; }
    bool end_array() override { return true; }
};

void compare_with_nlohmann(const std::uint8_t* data, std::size_t size) {
    Discard events;
    JsonPushParser parser(events);
    std::size_t split = size ? data[0] % (size + 1) : 0;
    bool pushed = parser.feed({data, split}) && parser.feed({data + split, size - split}) && parser.finish();
    if (parser.nests_too_deep() || parser.out_of_memory()) return;
    bool reference = nlohmann::json::accept(data, data + size);
    if (pushed != reference) __builtin_trap();
}

}  // namespace

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

    for (const auto& b : bodies) compare_with_nlohmann(b.data(), b.size());

    std::string_view first = bodies.front().view();
    (void)read_token_answer(first, "log in to https://fuzz.invalid/api");
    std::string message;
    (void)describe_server_error(422, first, 3, message);
    return 0;
}
