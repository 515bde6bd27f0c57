// The export formats: quoting choices, escapes, and a round trip through ghostpod's own dotenv
// parser for random values. (Other parsers read them in tests/integration/test_export.cpp.)
#include <catch2/catch.hpp>
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "pod/formats/dotenv.hpp"
#include "pod/formats/env_export.hpp"
#include "pod/unlock/config.hpp"

using namespace ghostpod;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

std::string formatted(const std::vector<std::pair<std::string, std::string>>& vars, ExportFormat format) {
    std::vector<ExportVariable> list;
    for (const auto& [name, value] : vars) list.push_back({name, bytes_of(value)});
    auto out = format_variables(list, format);
    REQUIRE(out);
    return std::string(out->view());
}

}  // namespace

TEST_CASE("dotenv writes KEY='value' unless the value holds a quote or a carriage return", "[export]") {
    CHECK(formatted({{"A", "plain $HOME `x` \\n"}}, ExportFormat::dotenv) == "A='plain $HOME `x` \\n'\n");
    CHECK(formatted({{"B", "it's $x `y` \"z\" \\"}}, ExportFormat::dotenv) == "B=\"it's \\$x \\`y\\` \\\"z\\\" \\\\\"\n");
    CHECK(formatted({{"C", "a\r\nb"}}, ExportFormat::dotenv) == "C=\"a\\r\nb\"\n");
    CHECK(formatted({{"D", ""}}, ExportFormat::dotenv_export) == "export D=''\n");
}

TEST_CASE("JSON and YAML escape what YAML would not read raw, and quote keys", "[export]") {
    std::string value = "q\" b\\ \n\t\x01 \x7f \xc2\x85 \xe2\x80\xa8 \xef\xbb\xbf \xc3\xa9";
    CHECK(formatted({{"NO", value}}, ExportFormat::yaml) ==
          "\"NO\": \"q\\\" b\\\\ \\n\\t\\u0001 \\u007f \\u0085 \\u2028 \\ufeff \xc3\xa9\"\n");
    auto js = nlohmann::json::parse(formatted({{"NO", value}}, ExportFormat::json));
    CHECK(js == nlohmann::json::parse(R"([{"key": "NO", "value": "q\" b\\ \n\t\u0001 \u007f \u0085 \u2028 \ufeff é"}])"));
    CHECK(formatted({}, ExportFormat::json) == "[]\n");
    CHECK(formatted({}, ExportFormat::yaml) == "{}\n");
}

TEST_CASE("values with NUL bytes, and non-UTF-8 values in JSON and YAML, are refused", "[export]") {
    CHECK(unexportable(bytes_of(std::string("a\0b", 3)), ExportFormat::dotenv));
    CHECK_FALSE(unexportable(bytes_of("caf\xe9"), ExportFormat::dotenv));
    CHECK(unexportable(bytes_of("caf\xe9"), ExportFormat::json));
    CHECK(unexportable(bytes_of("\xed\xa0\x80"), ExportFormat::yaml));      // a surrogate
    CHECK(unexportable(bytes_of("\xc0\xaf"), ExportFormat::yaml));          // overlong
    CHECK_FALSE(unexportable(bytes_of("\xf0\x9f\x90\xa2"), ExportFormat::json));
    std::vector<ExportVariable> nul = {{"N", bytes_of(std::string("\0", 1))}};
    CHECK_FALSE(format_variables(nul, ExportFormat::dotenv));
}

TEST_CASE("ghostpod's dotenv parser reads every exported value back byte for byte", "[export]") {
    REQUIRE(sodium_init() >= 0);
    for (int round = 0; round < 500; ++round) {
        std::string value(randombytes_uniform(40), '\0');
        static const char kAlphabet[] = "ab '\"\\$`#=\r\n\t x\x7f\xc3\xa9";
        for (auto& c : value) {
            c = kAlphabet[randombytes_uniform(sizeof kAlphabet - 1)];
            if (randombytes_uniform(8) == 0) c = static_cast<char>(1 + randombytes_uniform(255));
        }
        std::string text = formatted({{"V", value}}, round % 2 ? ExportFormat::dotenv : ExportFormat::dotenv_export);
        auto parsed = parse_dotenv(bytes_of(text), "export");
        INFO(text);
        REQUIRE(parsed);
        REQUIRE(parsed->variables.size() == 1);
        auto back = parsed->value(parsed->variables[0]);
        CHECK(std::string(back.begin(), back.end()) == value);
    }
}

TEST_CASE("a JSON syntax error's place is the line and column nlohmann names", "[config]") {
    for (std::string text : {"{\"a\": tru}", "{\n  \"a\": 1,\n  \"b\": [1, 2,,]\n}", "{\n\"\xc3\xa9\": x}", "{\"a\": 1\n", ""}) {
        INFO(text);
        try {
            auto parsed = nlohmann::json::parse(text);
            (void)parsed;
            FAIL("parsed");
        } catch (const nlohmann::json::parse_error& e) {
            std::string what = e.what();
            if (what.find("at line ") == std::string::npos) continue;  // "unexpected end of input" names no place
            auto at = what.find("at line ") + 3;
            std::string place = what.substr(at, what.find(':', at) - at);
            if (text.find('\xc3') != std::string::npos) {
                CHECK(json_error_place(text, e.byte) == "line 2, column 6");  // nlohmann counts bytes: 7
                continue;
            }
            CHECK(json_error_place(text, e.byte) == place);
        }
    }
}
