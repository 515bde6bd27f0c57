// A secrets listing as pulled: keys and where their values sit in secret memory, read from the
// server's answers with the official precedence (listing.cpp). An answer is read as it
// downloads (ListingBuilder is the HTTP client's body sink), so it is never held whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pod/net/http.hpp"
#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

// One pulled secret: its key and where its value sits in PulledSecrets::values. 48 bytes (a
// short key inline): 10,000 of them are what a refresh holds beside the values.
struct PulledSecret {
    std::string key;
    std::uint32_t folder = 0;  // the secretPath it came from (imports: the imported folder): PulledSecrets::folder()
    std::uint32_t chunk = 0;   // which buffer of PulledSecrets::values
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
};

struct PulledSecrets {
    std::deque<PulledSecret> secrets;  // by key (a deque: 10,000 of them are never regrown)
    // All values, back to back in buffers of a few hundred KiB each: growing one buffer would
    // copy every value so far each time it doubles (two copies alive at once).
    std::vector<SecretBuffer> values;
    std::vector<std::string> skipped;   // keys that cannot be file names (e.g. with '/')
    std::vector<std::string> folders{"/"};  // each folder named once (most secrets share one)
    const std::string& folder(const PulledSecret& s) const { return folders[s.folder]; }
    std::uint32_t folder_index(std::string_view name);
    std::span<const std::uint8_t> value(const PulledSecret& s) const { return {values[s.chunk].data() + s.offset, s.length}; }
    const PulledSecret* find(const std::string& key) const;
    // Copies `bytes` into secret memory: then at value({.., offset, bytes.size(), chunk}).
    Status add_value(std::span<const std::uint8_t> bytes, std::uint32_t& chunk, std::uint32_t& offset);
    // What add_value has filled, to roll back to (a retried download starts over).
    struct Mark {
        std::size_t chunks = 0, last_size = 0;
    };
    Mark mark() const { return {values.size(), values.empty() ? 0 : values.back().size()}; }
    void roll_back(const Mark& m);

private:
    std::size_t room_ = 0;  // free capacity of values.back()
    std::uint32_t last_folder_ = 0;
    std::unordered_map<std::string, std::uint32_t> folder_lookup_;
};

// Reads a listing's answers (one per path, in order), each as it arrives, then merges them:
// a folder's own secrets beat its imports, a later import beats an earlier one, a later path
// beats an earlier one.
class ListingBuilder : public BodySink {
public:
    explicit ListingBuilder(std::string where);
    ~ListingBuilder() override;
    ListingBuilder(const ListingBuilder&) = delete;
    ListingBuilder& operator=(const ListingBuilder&) = delete;

    // BodySink: (re)starts the current answer, then takes its bytes in pieces.
    void restart() override;
    bool consume(std::span<const std::uint8_t> bytes) override;
    // The current answer is complete: its shape is checked (the errors name `where`).
    Status end_answer();
    // Every answer read: the merged listing.
    Result<PulledSecrets> finish();

private:
    struct State;
    std::unique_ptr<State> state_;
};

// The merge rule on whole answers (one per path, in order).
Result<PulledSecrets> merge_listings(const std::vector<const SecretBuffer*>& bodies, const std::string& where);

}  // namespace ghostpod
