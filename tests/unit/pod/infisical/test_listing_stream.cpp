// The listing read as it downloads: the push parser (pod/net/json_stream.hpp) against
// nlohmann's strict parser, and ListingBuilder fed in pieces against the listing read whole.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <random>

#include "pod/infisical/listing.hpp"
#include "pod/net/json_stream.hpp"
#include "vault/unique_fd.hpp"

using namespace ghostpod;

namespace {

// Records every event as text: strings and keys with their bytes.
class Recorder : public JsonEvents {
public:
    std::vector<std::string> seen;
    bool scalar() override { return note("scalar"); }
    bool null() override { return note("null"); }
    bool boolean(bool value) override { return note(value ? "true" : "false"); }
    bool string(std::span<const std::uint8_t> text) override { return note("s:" + std::string(text.begin(), text.end())); }
    bool key(std::span<const std::uint8_t> text) override { return note("k:" + std::string(text.begin(), text.end())); }
    bool start_object() override { return note("{"); }
    bool end_object() override { return note("}"); }
    bool start_array() override { return note("["); }
    bool end_array() override { return note("]"); }

private:
    bool note(std::string what) {
        seen.push_back(std::move(what));
        return true;
    }
};

// Feeds `text` in pieces of `piece` bytes (0: whole); whether the parser took it as JSON.
bool push_accepts(const std::string& text, std::size_t piece, Recorder* into = nullptr) {
    Recorder local;
    Recorder& events = into ? *into : local;
    JsonPushParser parser(events);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
    std::size_t step = piece ? piece : text.size();
    for (std::size_t at = 0; at < text.size(); at += step)
        if (!parser.feed({bytes + at, std::min(step, text.size() - at)})) return false;
    return parser.finish();
}

std::string shown(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
        else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        }
    }
    return out;
}

SecretBuffer body(const std::string& text) {
    auto b = SecretBuffer::copy_of(text_bytes(text));
    REQUIRE(b);
    return std::move(*b);
}

std::string value_of(const PulledSecrets& p, const PulledSecret& s) {
    auto v = p.value(s);
    return std::string(v.begin(), v.end());
}

std::string secret(const std::string& key, const std::string& value, const std::string& path = "/") {
    return R"({"id":"x","secretKey":")" + key + R"(","secretValue":)" + nlohmann::json(value).dump() + R"(,"secretPath":")" +
           path + R"(","version":1,"tags":[],"secretValueHidden":false,"skipMultilineEncoding":null})";
}

// A listing with own secrets, two imports, a duplicate and a key that is no file name.
std::string sample_listing(int count) {
    std::string own, first, second;
    for (int i = 0; i < count; ++i) {
        std::string value = "value " + std::to_string(i) + " \"quoted\" \\ \n\u00e9\U0001F600 " + std::string(i % 97, 'x');
        own += (i ? "," : "") + secret("KEY_" + std::to_string(i), value);
    }
    own += "," + secret("KEY_1", "own duplicate wins") + "," + secret("bad/key", "skipped");
    first = secret("KEY_2", "import loses") + "," + secret("ONLY_IMPORTED", "first import") + "," + secret("TWICE", "earlier");
    second = secret("TWICE", "later import wins", "/two") + "," + secret("TWICE", "first of duplicates in an import wins");
    return R"({"secrets":[)" + own + R"(],"imports":[{"secretPath":"/one","environment":"dev","secrets":[)" + first +
           R"(]},{"secretPath":"/two","environment":"dev","secrets":[)" + second + "]}]}";
}

}  // namespace

TEST_CASE("the push parser accepts exactly what nlohmann's strict parser accepts, in any pieces", "[infisical][json]") {
    std::vector<std::string> inputs = {
        "", " ", "{}", "[]", "[1,2]", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":}", "{1:2}", "{\"a\":1}x", "{\"a\":1} ",
        "\xEF\xBB\xBF{}", "\xEF\xBB{}", "\xEF{}", "\xBB\xBF{}", "null", "nul", "nulll", "true", "tru", "false", "fals",
        "0", "-0", "01", "-", "1.", ".5", "1.5", "1e5", "1e", "1e+", "1E-7", "-1.5e+300", "1e400", "-1e400", "1e-400",
        "123456789012345678901234567890", "18446744073709551616", "[1 2]", "[true false]", "\"\"", "\"a\"", "\"a",
        "\"\\u0041\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"", "\"\\ud83dx\"",
        "\"\\u12\"", "\"\\u12G4\"", "\"\\x\"", "\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"", "\"\\u0000\"", "\"\x01\"", "\"\x7f\"",
        "\"\xC3\xA9\"", "\"\xC0\x80\"", "\"\xC1\xBF\"", "\"\xE0\x80\x80\"", "\"\xE0\xA0\x80\"", "\"\xED\xA0\x80\"",
        "\"\xED\x9F\xBF\"", "\"\xF0\x8F\xBF\xBF\"", "\"\xF0\x90\x80\x80\"", "\"\xF4\x8F\xBF\xBF\"", "\"\xF4\x90\x80\x80\"",
        "\"\xF5\x80\x80\x80\"", "\"\xC3\"", "\"\xE2\x82\"", "\"\x80\"", "\"\xFF\"", "[\"\xC3\xA9\",{\"\xE2\x82\xAC\":[]}]",
        " \t\n\r{ \"a\" : [ 1 , { } , [ ] ] } \n", "{\"a\":1}{}", "[[[[[]]]]]", "[[[[[]]]]", "{\"a\":[}", "[}", "{]",
        "\"tab\there\"", "[-]", "[--1]", "[+1]", "[1e5.5]", "[0x10]", "[NaN]", "[Infinity]", "/* c */ {}", "{}\x00",
    };
    for (const auto& text : inputs) {
        bool expected = nlohmann::json::accept(text);
        INFO("input: " << shown(text));
        CHECK(push_accepts(text, 0) == expected);
        CHECK(push_accepts(text, 1) == expected);
        CHECK(push_accepts(text, 3) == expected);
    }
    // Stricter in one thing: nlohmann reads a NUL byte after the document as the end of the input.
    CHECK(nlohmann::json::accept(std::string("{}\0x", 4)));
    CHECK_FALSE(push_accepts(std::string("{}\0x", 4), 0));
    // Mutations of a real listing: a byte replaced, dropped or doubled.
    std::string base = sample_listing(3);
    std::mt19937 rng(16);
    const std::string alphabet = "{}[],:\"\\u0123456789abcdefABCDEF.eE+-ntrufals \xC3\xA9\xED\xF0\x80\xBF";
    for (int round = 0; round < 3000; ++round) {
        std::string text = base;
        std::size_t at = rng() % text.size();
        switch (rng() % 3) {
            case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
            case 1: text.erase(at, 1); break;
            default: text.insert(at, 1, text[at]); break;
        }
        bool expected = nlohmann::json::accept(text);
        INFO("round " << round);
        REQUIRE(push_accepts(text, 1 + rng() % 7) == expected);
    }
}

TEST_CASE("the push parser hands strings unescaped, split anywhere, in the order of the document", "[infisical][json]") {
    std::string text = R"({"k\u00e9y":["a\"b\\c\/d\n", "\ud83d\ude00 ok", 12.5e-3, true, false, null, {"x":{}}]})";
    Recorder whole;
    REQUIRE(push_accepts(text, 0, &whole));
    CHECK(whole.seen == std::vector<std::string>{"{", "k:k\u00e9y", "[", "s:a\"b\\c/d\n", "s:\U0001F600 ok", "scalar", "true",
                                                 "false", "null", "{", "k:x", "{", "}", "}", "]", "}"});
    for (std::size_t piece = 1; piece < text.size(); ++piece) {
        Recorder split;
        REQUIRE(push_accepts(text, piece, &split));
        CHECK(split.seen == whole.seen);
    }
}

TEST_CASE("the push parser refuses nesting deeper than its limit, and says so", "[infisical][json]") {
    std::size_t limit = JsonPushParser::kMaxDepth;
    std::string at_limit = std::string(limit, '[') + std::string(limit, ']');
    CHECK(push_accepts(at_limit, 0));
    std::string deeper = std::string(limit + 1, '[') + std::string(limit + 1, ']');
    Recorder events;
    JsonPushParser parser(events);
    CHECK_FALSE(parser.feed(text_bytes(deeper)));
    CHECK(parser.nests_too_deep());
    auto listing = body(R"({"secrets":[],"x":)" + deeper + "}");
    auto merged = merge_listings({&listing}, "test");
    REQUIRE_FALSE(merged);
    CHECK(merged.error().describe().find("nests absurdly deep") != std::string::npos);
}

TEST_CASE("a listing read in pieces as it downloads equals the listing read whole", "[infisical]") {
    std::string text = sample_listing(300);
    auto whole_body = body(text);
    auto whole = merge_listings({&whole_body}, "test");
    REQUIRE(whole);
    REQUIRE(whole->secrets.size() == 300 + 2);  // and ONLY_IMPORTED, TWICE; KEY_2's import loses
    CHECK(whole->skipped == std::vector<std::string>{"bad/key"});
    auto find = [](const PulledSecrets& p, const std::string& key) {
        const PulledSecret* s = p.find(key);
        REQUIRE(s != nullptr);
        return value_of(p, *s);
    };
    CHECK(find(*whole, "KEY_1") == "own duplicate wins");
    CHECK(find(*whole, "KEY_2").rfind("value 2 ", 0) == 0);
    CHECK(find(*whole, "ONLY_IMPORTED") == "first import");
    CHECK(find(*whole, "TWICE") == "later import wins");
    CHECK(whole->folder(*whole->find("TWICE")) == "/two");
    CHECK(std::is_sorted(whole->secrets.begin(), whole->secrets.end(),
                         [](const PulledSecret& a, const PulledSecret& b) { return a.key < b.key; }));
    for (std::size_t piece : {1u, 7u, 4096u}) {
        ListingBuilder builder("test");
        builder.restart();
        for (std::size_t at = 0; at < text.size(); at += piece)
            REQUIRE(builder.consume(text_bytes(text).subspan(at, std::min(piece, text.size() - at))));
        REQUIRE(builder.end_answer());
        auto split = builder.finish();
        REQUIRE(split);
        REQUIRE(split->secrets.size() == whole->secrets.size());
        for (std::size_t i = 0; i < whole->secrets.size(); ++i) {
            CHECK(split->secrets[i].key == whole->secrets[i].key);
            CHECK(split->folder(split->secrets[i]) == whole->folder(whole->secrets[i]));
            CHECK(value_of(*split, split->secrets[i]) == value_of(*whole, whole->secrets[i]));
        }
    }
}

TEST_CASE("a download retried halfway starts its answer over: nothing of the broken attempt stays", "[infisical]") {
    std::string first = R"({"secrets":[)" + secret("A", "from the first path") + "," + secret("B", "b") + "]}";
    std::string second = R"({"secrets":[)" + secret("A", "from the second path") + "," + secret("C", "c") + "]}";
    ListingBuilder builder("test");
    builder.restart();
    REQUIRE(builder.consume(text_bytes(first)));
    REQUIRE(builder.end_answer());
    // The second answer breaks off after its first secret, then comes again whole.
    builder.restart();
    REQUIRE(builder.consume(text_bytes(second).first(second.find("},") + 2)));
    builder.restart();
    REQUIRE(builder.consume(text_bytes(second)));
    REQUIRE(builder.end_answer());
    auto merged = builder.finish();
    REQUIRE(merged);
    REQUIRE(merged->secrets.size() == 3);
    CHECK(merged->secrets[0].key == "A");
    CHECK(value_of(*merged, merged->secrets[0]) == "from the second path");
    CHECK(value_of(*merged, merged->secrets[1]) == "b");
    CHECK(value_of(*merged, merged->secrets[2]) == "c");
}

TEST_CASE("values larger than a buffer of values and many small ones each read back whole", "[infisical]") {
    std::string big(300u << 10, 'v');
    big[0] = 'B';
    std::string text = R"({"secrets":[)";
    for (int i = 0; i < 2000; ++i) text += secret("S" + std::to_string(i), std::string(100, static_cast<char>('a' + i % 26))) + ",";
    text += secret("BIG", big) + "]}";
    auto listing = body(text);
    auto merged = merge_listings({&listing}, "test");
    REQUIRE(merged);
    REQUIRE(merged->secrets.size() == 2001);
    CHECK(merged->values.size() > 2);  // in several buffers, not one regrown
    CHECK(value_of(*merged, *merged->find("BIG")) == big);
    for (int i = 0; i < 2000; i += 37)
        CHECK(value_of(*merged, *merged->find("S" + std::to_string(i))) == std::string(100, static_cast<char>('a' + i % 26)));
}
