// Bech32 against the BIP 173 test vectors, and age identities against the real age-keygen.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <regex>
#include <string>
#include <vector>

#include "pod/formats/age_key.hpp"
#include "tests/support/process.hpp"

using namespace ghostpod;
using namespace ghostpod::test;

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string hex_of(std::span<const std::uint8_t> bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (std::uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

// The line of `text` starting with `prefix`, without the prefix.
std::string line_after(const std::string& text, const std::string& prefix) {
    auto at = text.find(prefix);
    if (at == std::string::npos) return {};
    at += prefix.size();
    return text.substr(at, text.find('\n', at) - at);
}

bool age_tools_installed() {
    return run({"sh", "-c", "command -v age-keygen"}).exit_code == 0;
}

}  // namespace

TEST_CASE("every valid BIP 173 checksum vector decodes and re-encodes to itself", "[age]") {
    for (std::string vector : {"A12UEL5L", "a12uel5l",
                               "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
                               "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                               "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
                               "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", "?1ezyfcl"}) {
        INFO(vector);
        auto decoded = bech32::decode_words(vector);
        REQUIRE(decoded);
        auto encoded = bech32::encode_words(decoded->hrp, decoded->words.bytes());
        REQUIRE(encoded);
        std::string lower;
        for (char c : vector) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        CHECK(std::string(encoded->view()) == lower);
    }
}

TEST_CASE("the BIP 173 segwit vectors decode to their witness programs", "[age]") {
    struct Vector {
        const char* address;
        const char* hrp;
        const char* program;
    };
    for (const Vector& v :
         {Vector{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc", "751e76e8199196d454941c45d1b3a323f1433bd6"},
          Vector{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "tb",
                 "1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"}}) {
        INFO(v.address);
        auto decoded = bech32::decode_words(v.address);
        REQUIRE(decoded);
        CHECK(decoded->hrp == v.hrp);
        REQUIRE(decoded->words.size() > 1);
        CHECK(decoded->words.data()[0] == 0);  // witness version 0
        auto program = bech32::words_to_bytes(decoded->words.bytes().subspan(1));
        REQUIRE(program);
        CHECK(hex_of(program->bytes()) == v.program);
    }
}

TEST_CASE("the invalid BIP 173 vectors are rejected as usage errors", "[age]") {
    for (std::string vector : {std::string("\x20" "1nwldj5"), std::string("\x7f" "1axkwrx"), std::string("\x80" "1eym55h"),
                               std::string("an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx"),
                               std::string("pzry9x0s0muk"), std::string("1pzry9x0s0muk"), std::string("x1b4n0q5v"),
                               std::string("li1dgmt3"), std::string("de1lg7wt\xff"), std::string("A1G7SGD8"),
                               std::string("10a06t8"), std::string("1qzzfhee"), std::string("a12UEL5L")}) {
        INFO(vector);
        auto decoded = bech32::decode_words(vector);
        REQUIRE_FALSE(decoded);
        CHECK(decoded.error().code == ErrorCode::usage);
    }
}

TEST_CASE("bytes round-trip through Bech32 and a flipped character is caught", "[age]") {
    std::vector<std::uint8_t> bytes(32);
    randombytes_buf(bytes.data(), bytes.size());
    auto encoded = bech32::encode("age", bytes);
    REQUIRE(encoded);
    std::string text(encoded->view());
    auto decoded = bech32::decode(text, "age");
    REQUIRE(decoded);
    CHECK(decoded->equals(bytes));
    CHECK_FALSE(bech32::decode(text, "age-secret-key-"));
    text[10] = text[10] == 'q' ? 'p' : 'q';
    CHECK_FALSE(bech32::decode(text, "age"));
}

TEST_CASE("a generated identity has age-keygen's layout and its own recipient", "[age]") {
    auto identity = generate_age_identity("2026-11-28T14:00:00+01:00");
    REQUIRE(identity);
    std::string text(identity->key_file.view());
    CHECK(std::regex_match(identity->recipient, std::regex("age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}")));
    CHECK(std::regex_match(text, std::regex("# created: 2026-11-28T14:00:00\\+01:00\n"
                                            "# public key: age1[a-z0-9]{58}\n"
                                            "AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\n")));
    CHECK(line_after(text, "# public key: ") == identity->recipient);
    std::string secret_line = "AGE-SECRET-KEY-1" + line_after(text, "AGE-SECRET-KEY-1");
    auto derived = age_recipient_of(bytes_of(secret_line));
    REQUIRE(derived);
    CHECK(*derived == identity->recipient);
    auto other = generate_age_identity("2026-11-28T14:00:00Z");
    REQUIRE(other);
    CHECK(other->recipient != identity->recipient);
}

TEST_CASE("the created time reads like Go's RFC 3339", "[age]") {
    CHECK(std::regex_match(rfc3339_local_now(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d))")));
}

TEST_CASE("an identity from the real age-keygen decodes to the recipient age-keygen -y prints", "[age]") {
    if (!age_tools_installed()) FAIL("age-keygen is not installed (package 'age'); the cross-check needs the real tool");
    auto made = run({"age-keygen"});
    REQUIRE(made.exit_code == 0);
    std::string identity = "AGE-SECRET-KEY-1" + line_after(made.out, "AGE-SECRET-KEY-1");
    auto derived = age_recipient_of(bytes_of(identity));
    INFO((derived ? std::string() : derived.error().describe()));
    REQUIRE(derived);
    RunOptions feed;
    feed.stdin_data = identity + "\n";
    auto expected = run({"age-keygen", "-y"}, feed);
    REQUIRE(expected.exit_code == 0);
    CHECK(*derived + "\n" == expected.out);
    CHECK(*derived == line_after(made.out, "# public key: "));
}

TEST_CASE("age-keygen -y on a generated identity prints the generated recipient", "[age]") {
    if (!age_tools_installed()) FAIL("age-keygen is not installed (package 'age'); the cross-check needs the real tool");
    for (int i = 0; i < 8; ++i) {
        auto identity = generate_age_identity(rfc3339_local_now());
        REQUIRE(identity);
        // The whole key file, comments included, as age-keygen -y reads keys.txt.
        RunOptions feed;
        feed.stdin_data = std::string(identity->key_file.view());
        auto derived = run({"age-keygen", "-y"}, feed);
        INFO(derived.err);
        REQUIRE(derived.exit_code == 0);
        CHECK(derived.out == identity->recipient + "\n");
    }
}
