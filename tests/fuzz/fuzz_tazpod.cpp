// The TazPod importer after its PBKDF2 + AES-GCM step (100,000 PBKDF2 iterations per input
// would be far too slow): gunzip_secret() inflates the input into secret memory, and read_tar()
// lists the result (ustar, GNU long names, pax headers, refusals). An input that is not gzip is
// read as a tar directly, so the tar reader is fuzzed on bytes a mutator can reach.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "pod/formats/tazpod.hpp"

using namespace ghostpod;

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

namespace {

void list(std::span<const std::uint8_t> tar) {
    auto listing = read_tar(tar);
    if (!listing) return;
    for (const auto& f : listing->files) {
        // Every listed file must lie inside the tar buffer; ASan reports it if not.
        if (f.length) (void)tar[f.offset + f.length - 1];
        (void)tazpod_entry_mode(f.mode);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> input(data, size);
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        auto tar = gunzip_secret(input, 4u << 20);
        if (tar) list(tar->bytes());
    } else {
        list(input);
    }
    return 0;
}
