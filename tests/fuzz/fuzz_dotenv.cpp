// The dotenv importer: parse_dotenv() on a whole .env file (quotes, escapes, comments, CRLF).
#include <sodium.h>

#include <cstddef>
#include <cstdint>

#include "pod/formats/dotenv.hpp"

using namespace ghostpod;

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto parsed = parse_dotenv({data, size}, "parse .env");
    if (parsed) {
        for (const auto& v : parsed->variables) (void)parsed->value(v);
    }
    return 0;
}
