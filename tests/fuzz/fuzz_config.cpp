// The project config reader (.ghostpod/config.json): JSON parsing and every key's checks, on
// the file's text as load_config() reads it from disk.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pod/unlock/config.hpp"

using namespace ghostpod;

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto config = parse_config(std::string_view(reinterpret_cast<const char*>(data), size), ".ghostpod/config.json");
    if (config) {
        for (const auto& [name, mapping] : config->secrets) (void)mapping_for(*config, name);
        (void)mapping_for(*config, "kube/config");
    }
    if (size <= 32) (void)parse_duration(std::string(reinterpret_cast<const char*>(data), size));
    return 0;
}
