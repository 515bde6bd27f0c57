#include <catch2/catch.hpp>
#include <sodium.h>

#include <algorithm>
#include <string>

#include "vault/recovery_key.hpp"

using namespace ghostpod;

namespace {
std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

TEST_CASE("a formatted recovery key parses back to the same 32 bytes", "[recovery_key]") {
    REQUIRE(sodium_init() >= 0);
    for (int i = 0; i < 50; ++i) {
        auto key = generate_recovery_key();
        REQUIRE(key);
        auto text = format_recovery_key(key->bytes());
        REQUIRE(text);
        CHECK(text->size() == 64);
        CHECK(std::count(text->view().begin(), text->view().end(), '-') == 12);
        auto parsed = parse_recovery_key(text->bytes());
        REQUIRE(parsed);
        CHECK(parsed->equals(key->bytes()));
    }
}

TEST_CASE("recovery key parsing ignores case, dashes and white space", "[recovery_key]") {
    auto key = generate_recovery_key();
    REQUIRE(key);
    auto text = format_recovery_key(key->bytes());
    REQUIRE(text);
    std::string sloppy;
    for (char c : text->view()) {
        if (c == '-') sloppy += "  ";
        else sloppy += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    sloppy += "\r\n";
    auto parsed = parse_recovery_key(as_bytes(sloppy));
    REQUIRE(parsed);
    CHECK(parsed->equals(key->bytes()));
}

TEST_CASE("text that cannot be a recovery key is refused as a usage error", "[recovery_key]") {
    auto key = generate_recovery_key();
    REQUIRE(key);
    auto text = format_recovery_key(key->bytes());
    REQUIRE(text);
    std::string good(text->view());
    std::string short_one = good.substr(0, good.size() - 1);
    std::string long_one = good + "A";
    std::string bad_char = good;
    bad_char[0] = '1';  // not in the base32 alphabet
    for (const auto& bad : {short_one, long_one, bad_char, std::string("passphrase")}) {
        auto parsed = parse_recovery_key(as_bytes(bad));
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code == ErrorCode::usage);
    }
}

TEST_CASE("a recovery key with non-zero padding bits is refused", "[recovery_key]") {
    // 52 characters carry 260 bits; the last character's low 4 bits are padding.
    std::string all_a(52, 'A');
    auto zero_padding = parse_recovery_key(as_bytes(all_a));
    CHECK(zero_padding);
    all_a.back() = 'B';  // value 1: a padding bit set
    auto dirty = parse_recovery_key(as_bytes(all_a));
    CHECK_FALSE(dirty);
}
