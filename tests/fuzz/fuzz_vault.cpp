// The vault file reader past the KDF. An input is a vault header followed by a *plaintext*
// payload: parse_header() reads the header (magic, version, lengths, keyslots); the rest is
// sealed here under a fixed data key with the header's additional data and handed to
// open_payload(), which decrypts it chunk by chunk and decodes every entry. Argon2id per input
// would cost ~0.5 s, and a fuzzer cannot forge Poly1305 tags, so sealing inside the harness is
// what lets mutations reach the entry decoder. An input without a valid header is fuzzed as a
// plaintext payload alone, its first four bytes giving the expected entry count.
#include <cstddef>
#include <cstdint>
#include <span>

#include <sodium.h>

#include <array>
#include <vector>

#include "vault/bytes.hpp"
#include "vault/format.hpp"
#include "vault/payload.hpp"

using namespace ghostpod;

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::array<std::uint8_t, kKeyBytes> key{1, 2, 3, 4, 5, 6, 7, 8};
    std::span<const std::uint8_t> input(data, size);

    std::span<const std::uint8_t> plain = input;
    std::vector<std::uint8_t> aad;
    std::uint32_t expected_count = 0;
    if (auto header = parse_header(input)) {
        (void)header->length();
        plain = input.subspan(header->length());
        aad = payload_aad(*header);
        (void)keyslot_aad(*header, header->slots.front());
        expected_count = header->entry_count;
    } else if (size >= 4) {
        expected_count = get_u32(data);
    }
    if (plain.empty() || plain.size() > (1u << 20)) return 0;
    auto sealed = seal_plaintext(plain, key, aad);
    auto entries = open_payload(sealed, key, aad, expected_count);
    if (entries) {
        for (const auto& e : *entries) (void)e.value();
    }
    // The raw bytes as ciphertext too: the chunk-length arithmetic before authentication.
    (void)open_payload(input, key, aad, expected_count);
    return 0;
}
