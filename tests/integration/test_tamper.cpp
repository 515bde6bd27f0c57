// Single-byte changes and truncations of a small vault made by the real binary must be refused
// with exit 3, and nothing stored may appear in the output. Every flip and truncation is tried
// against the decoder in-process by tests/unit/vault/test_tamper.cpp; here a sample of them goes
// through the binary: a stride over the whole file from a random start (each run covers other
// bytes) plus the first and last byte of every header field and of the payload.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/support/vault_fixture.hpp"
#include "vault/format.hpp"

using namespace ghostpod::test;

namespace {

struct Outcome {
    std::size_t position;
    int exit_code;
    bool leaked;
};

// Runs `ghostpod secret get` against `variants` two at a time (the machine has two cores).
std::vector<Outcome> try_variants(const VaultFixture& v, const std::vector<std::string>& variants,
                                  const std::vector<std::string>& values) {
    std::vector<Outcome> outcomes(variants.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&](int id) {
        std::string path = v.dir / ("variant-" + std::to_string(id));
        for (std::size_t i = next++; i < variants.size(); i = next++) {
            write_text(path, variants[i]);
            auto r = run(gp(path, {"secret", "get", "first"}), v.options());
            bool leaked = false;
            for (const auto& value : values) leaked = leaked || contains(r.out + r.err, value);
            outcomes[i] = {i, r.exit_code, leaked};
        }
    };
    std::thread a(worker, 0), b(worker, 1);
    a.join();
    b.join();
    return outcomes;
}

struct Tally {
    std::size_t accepted = 0;  // variants that did not exit 3
    std::size_t leaks = 0;     // variants whose output held a stored value
};

Tally tally(const std::vector<Outcome>& outcomes, const char* what) {
    Tally t;
    for (const auto& o : outcomes) {
        if (o.exit_code != 3) {
            ++t.accepted;
            UNSCOPED_INFO(what << " " << o.position << ": exit " << o.exit_code);
        }
        if (o.leaked) ++t.leaks;
    }
    return t;
}

struct SmallVault {
    VaultFixture v;
    std::vector<std::string> values{random_marker("first-"), random_marker("second-")};
    std::string bytes;
    SmallVault() {
        REQUIRE(v.set("first", values[0]).exit_code == 0);
        REQUIRE(v.set("second", values[1]).exit_code == 0);
        bytes = read_text(v.vault);
        auto sanity = try_variants(v, {bytes}, {});
        REQUIRE(sanity[0].exit_code == 0);
    }
};

// Positions to damage: every `stride`th byte from a random start, and the first and last byte
// of each field of the header (man/ghostpod-vault.5) and of the payload.
std::set<std::size_t> sample_positions(const std::string& bytes, std::size_t stride) {
    auto header = ghostpod::parse_header({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    REQUIRE(header);
    // magic, version, header length, keyslot count, reserved, vault id, created, updated,
    // generation, entry count, reserved
    std::vector<std::size_t> starts = {0, 8, 10, 12, 13, 16, 32, 40, 48, 56, 60};
    for (std::size_t slot = 0; slot < header->slots.size(); ++slot) {
        std::size_t at = ghostpod::kFixedHeaderBytes + slot * ghostpod::kKeyslotBytes;
        // type, KDF, profile, reserved, t_cost, m_cost, parallelism, salt, nonce, wrapped key
        for (std::size_t offset : {0, 1, 2, 3, 4, 8, 12, 16, 32, 56}) starts.push_back(at + offset);
    }
    starts.push_back(header->length() - ghostpod::kHeaderMacBytes);  // the header MAC
    starts.push_back(header->length());                                 // secretstream header
    starts.push_back(header->length() + 24);                            // encrypted chunks
    starts.push_back(bytes.size());
    std::set<std::size_t> positions;
    for (std::size_t i = 1; i < starts.size(); ++i) {
        if (starts[i] <= starts[i - 1] || starts[i] > bytes.size()) continue;
        positions.insert(starts[i - 1]);
        positions.insert(starts[i] - 1);
    }
    for (std::size_t i = randombytes_uniform(static_cast<std::uint32_t>(stride)); i < bytes.size(); i += stride)
        positions.insert(i);
    return positions;
}

}  // namespace

TEST_CASE("a flipped bit in a sample of the vault's bytes is rejected with exit 3", "[tamper]") {
    SmallVault s;
    auto positions = sample_positions(s.bytes, 16);
    std::vector<std::string> variants;
    std::vector<std::size_t> at;
    for (std::size_t i : positions) {
        std::string flipped = s.bytes;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
        variants.push_back(flipped);
        at.push_back(i);
    }
    auto outcomes = try_variants(s.v, variants, s.values);
    for (auto& o : outcomes) o.position = at[o.position];
    auto t = tally(outcomes, "flipped byte");
    CHECK(outcomes.size() >= s.bytes.size() / 16);
    CHECK(t.accepted == 0);
    CHECK(t.leaks == 0);
}

TEST_CASE("a vault truncated to a sample of shorter lengths is rejected with exit 3", "[tamper]") {
    SmallVault s;
    std::vector<std::string> variants;
    std::vector<std::size_t> lengths;
    for (std::size_t len : sample_positions(s.bytes, 32)) {
        variants.push_back(s.bytes.substr(0, len));
        lengths.push_back(len);
    }
    variants.push_back(s.bytes + std::string(1, '\0'));  // and one byte appended
    lengths.push_back(s.bytes.size() + 1);
    auto outcomes = try_variants(s.v, variants, s.values);
    for (auto& o : outcomes) o.position = lengths[o.position];
    auto t = tally(outcomes, "truncated to length");
    CHECK(outcomes.size() >= s.bytes.size() / 32);
    CHECK(t.accepted == 0);
    CHECK(t.leaks == 0);
}

TEST_CASE("a damaged vault's error says what is wrong and how to recover", "[tamper]") {
    SmallVault s;
    std::string damaged = s.bytes;
    damaged[damaged.size() - 5] = static_cast<char>(damaged[damaged.size() - 5] ^ 0x80);
    write_text(s.v.vault, damaged);
    auto r = s.v.get("first");
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("damaged payload") != std::string::npos);
    CHECK(r.err.find(".bak") != std::string::npos);
    write_text(s.v.vault, "just some text, not a vault at all");
    auto foreign = s.v.get("first");
    CHECK(foreign.exit_code == 3);
    CHECK(foreign.err.find("not a ghostpod vault") != std::string::npos);
}
