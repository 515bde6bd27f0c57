// Every bit flip and every truncation of a vault, straight against the decoder (Vault::open,
// Vault::open_with_data_key): each must fail with ErrorCode::unlock and show no stored value.
// tests/integration/test_tamper.cpp runs a sample of the same variants through the real binary
// (exit 3, nothing in the output).
//
// Cost: opening with the recovery key (keyed BLAKE2b) or the data key takes microseconds, so
// those two credentials try every variant. The passphrase costs one Argon2id run (~0.1 s) per
// variant, so it tries only variants on which its path differs from the recovery key's: flips
// in its own keyslot (the first and last byte of each field, and every 8th byte from a random
// start; the recovery key's and the data key's opens of the same flips fail on the header MAC),
// and the truncations that cut into the header. A variant that leaves the header whole
// decrypts the same payload with the same data key whichever slot unwrapped it, and both slots
// are bound to the fixed header by the same additional data.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <set>
#include <string>
#include <vector>

#include "vault/format.hpp"
#include "vault/recovery_key.hpp"
#include "vault/vault.hpp"

using namespace ghostpod;

namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

const std::string kPass = "tamper test passphrase";

struct SmallVault {
    SecretBuffer recovery;
    SecretBuffer data_key;
    std::vector<std::string> values;
    std::vector<std::uint8_t> bytes;
    std::size_t header_length = 0;
    std::size_t passphrase_slot = 0;  // offset of the passphrase keyslot
};

// Two entries, as tests/integration/test_tamper.cpp's vault made by `init` and two `secret set`s.
SmallVault make_small_vault() {
    REQUIRE(sodium_init() >= 0);
    auto recovery = generate_recovery_key();
    REQUIRE(recovery);
    auto vault = Vault::create(as_bytes(kPass), KdfProfile::interactive, recovery->bytes(), 1'700'000'000);
    REQUIRE(vault);
    SmallVault s{std::move(*recovery), {}, {"first-7c1d0e5a9b", "second-3f88a2c6d4"}, {}};
    for (std::size_t i = 0; i < s.values.size(); ++i) {
        Entry e;
        e.name = i == 0 ? "first" : "second";
        e.source = "stdin";
        REQUIRE(vault->put(e, as_bytes(s.values[i])));
    }
    auto file = vault->serialise(1'700'000'100);
    REQUIRE(file);
    s.bytes = std::move(*file);
    auto dek = vault->copy_data_key();
    REQUIRE(dek);
    s.data_key = std::move(*dek);
    auto header = parse_header(s.bytes);
    REQUIRE(header);
    s.header_length = header->length();
    REQUIRE(header->slots.size() == 2);
    REQUIRE(header->slots[0].type == SlotType::passphrase);
    s.passphrase_slot = kFixedHeaderBytes;
    // The unmodified bytes open with each credential: a refusal below is the variant's doing.
    REQUIRE(Vault::open(s.bytes, {SlotType::passphrase, as_bytes(kPass)}));
    REQUIRE(Vault::open(s.bytes, {SlotType::recovery, s.recovery.bytes()}));
    REQUIRE(Vault::open_with_data_key(s.bytes, s.data_key.bytes()));
    return s;
}

enum class Way { passphrase, recovery_key, data_key };

const char* way_name(Way way) {
    switch (way) {
        case Way::passphrase: return "passphrase";
        case Way::recovery_key: return "recovery key";
        default: return "data key";
    }
}

// "" when `variant` is refused as it must be; otherwise what went wrong.
std::string refusal_problem(const SmallVault& s, std::span<const std::uint8_t> variant, Way way) {
    Result<Vault> opened = way == Way::data_key       ? Vault::open_with_data_key(variant, s.data_key.bytes())
                           : way == Way::recovery_key ? Vault::open(variant, {SlotType::recovery, s.recovery.bytes()})
                                                      : Vault::open(variant, {SlotType::passphrase, as_bytes(kPass)});
    if (opened) return "opened";
    if (opened.error().code != ErrorCode::unlock) return "error code " + std::to_string(int(opened.error().code));
    std::string text = opened.error().describe() + " " + opened.error().hint;
    for (const auto& value : s.values)
        if (text.find(value) != std::string::npos) return "the error shows a stored value";
    return "";
}

struct Tally {
    std::size_t tried = 0;
    std::size_t wrong = 0;  // variants not refused as they must be
};

void expect_refused(const SmallVault& s, std::span<const std::uint8_t> variant, Way way, const std::string& what,
                    Tally& t) {
    ++t.tried;
    std::string problem = refusal_problem(s, variant, way);
    if (problem.empty()) return;
    ++t.wrong;
    UNSCOPED_INFO(what << " with the " << way_name(way) << ": " << problem);
}

// Offsets in the passphrase keyslot the passphrase open is tried on: each field's first and last
// byte (type, KDF, profile, reserved, t_cost, m_cost, parallelism, salt, nonce, wrapped key;
// man/ghostpod-vault.5) and every 8th byte from a random start.
std::set<std::size_t> passphrase_slot_sample() {
    const std::size_t fields[] = {0, 1, 2, 3, 4, 8, 12, 16, 32, 56, kKeyslotBytes};
    std::set<std::size_t> offsets;
    for (std::size_t i = 1; i < std::size(fields); ++i) {
        offsets.insert(fields[i - 1]);
        offsets.insert(fields[i] - 1);
    }
    for (std::size_t i = randombytes_uniform(8); i < kKeyslotBytes; i += 8) offsets.insert(i);
    return offsets;
}

}  // namespace

TEST_CASE("every bit flipped in any byte of a vault is refused by the decoder", "[tamper]") {
    auto s = make_small_vault();
    Tally t;
    auto sample = passphrase_slot_sample();
    std::size_t passphrase_tries = 0;
    for (std::size_t i = 0; i < s.bytes.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::vector<std::uint8_t> flipped = s.bytes;
            flipped[i] = static_cast<std::uint8_t>(flipped[i] ^ (1u << bit));
            std::string what = "byte " + std::to_string(i) + " bit " + std::to_string(bit);
            expect_refused(s, flipped, Way::recovery_key, what, t);
            expect_refused(s, flipped, Way::data_key, what, t);
            bool sampled = i >= s.passphrase_slot && sample.count(i - s.passphrase_slot) != 0;
            if (sampled && bit == 0) {
                expect_refused(s, flipped, Way::passphrase, what, t);
                ++passphrase_tries;
            }
        }
    }
    CHECK(t.tried == s.bytes.size() * 16 + sample.size());
    CHECK(passphrase_tries == sample.size());
    CHECK(passphrase_tries >= 20);  // 16 field ends and 12 or 13 stride points, some of them the same
    CHECK(t.wrong == 0);
}

TEST_CASE("a vault truncated to any shorter length or grown by a byte is refused by the decoder", "[tamper]") {
    auto s = make_small_vault();
    Tally t;
    for (std::size_t len = 0; len <= s.bytes.size(); ++len) {
        std::vector<std::uint8_t> variant(s.bytes.begin(), s.bytes.begin() + static_cast<std::ptrdiff_t>(len));
        std::string what = "truncated to " + std::to_string(len);
        if (len == s.bytes.size()) {
            variant.push_back(0);
            what = "one byte appended";
        }
        expect_refused(s, variant, Way::recovery_key, what, t);
        expect_refused(s, variant, Way::data_key, what, t);
        // Past the header the passphrase's path is the recovery key's: its ends suffice.
        if (len < s.header_length + 1 || len + 1 >= s.bytes.size()) expect_refused(s, variant, Way::passphrase, what, t);
    }
    CHECK(t.tried > 2 * (s.bytes.size() + 1) + s.header_length);
    CHECK(t.wrong == 0);
}
