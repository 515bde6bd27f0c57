// A secrets listing as pulled: keys and where their values sit in one secret buffer, read
// from the server's answers with the official precedence (listing.cpp).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

// One pulled secret: its key and where its value sits in PulledSecrets::values.
struct PulledSecret {
    std::string key;
    std::string folder;  // the secretPath it came from (imports: the imported folder)
    std::size_t offset = 0;
    std::size_t length = 0;
};

struct PulledSecrets {
    std::vector<PulledSecret> secrets;  // in a stable order (by key)
    SecretBuffer values;                // all values, back to back
    std::vector<std::string> skipped;   // keys that cannot be file names (e.g. with '/')
    std::span<const std::uint8_t> value(const PulledSecret& s) const { return {values.data() + s.offset, s.length}; }
    const PulledSecret* find(const std::string& key) const;
};

// The merge rule on the answers of a listing (one per path, in order): a folder's own secrets
// beat its imports, a later import beats an earlier one, a later path beats an earlier one.
Result<PulledSecrets> merge_listings(const std::vector<const SecretBuffer*>& bodies, const std::string& where);

}  // namespace ghostpod
