#include <catch2/catch.hpp>

#include "pod/cli/args.hpp"

using namespace ghostpod;

TEST_CASE("options take values in both --name value and --name=value form", "[args]") {
    Context context;
    auto parsed = parse_args({"--file", "a.txt", "NAME", "--kind=env"}, {{"--file", true}, {"--kind", true}}, context, "secret set");
    REQUIRE(parsed);
    CHECK(parsed->value("--file") == "a.txt");
    CHECK(parsed->value("--kind") == "env");
    REQUIRE(parsed->positional.size() == 1);
    CHECK(parsed->positional[0] == "NAME");
}

TEST_CASE("global options are accepted after the command", "[args]") {
    Context context;
    auto parsed = parse_args({"NAME", "--vault", "/v", "--passphrase-fd=7"}, {}, context, "secret get");
    REQUIRE(parsed);
    CHECK(context.paths.vault == "/v");
    CHECK(context.passphrase_fd == 7);
    CHECK(parsed->positional == std::vector<std::string>{"NAME"});
}

TEST_CASE("an unknown option is a usage error naming it", "[args]") {
    Context context;
    auto parsed = parse_args({"--frobnicate"}, {{"--json", false}}, context, "secret ls");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::usage);
    CHECK(parsed.error().describe().find("--frobnicate") != std::string::npos);
    CHECK(parsed.error().hint.find("secret ls --help") != std::string::npos);
}

TEST_CASE("a missing option value and a value given to a flag are usage errors", "[args]") {
    Context context;
    CHECK_FALSE(parse_args({"--file"}, {{"--file", true}}, context, "secret set"));
    CHECK_FALSE(parse_args({"--json=yes"}, {{"--json", false}}, context, "secret ls"));
    CHECK_FALSE(parse_args({"--passphrase-fd", "three"}, {}, context, "status"));
    CHECK_FALSE(parse_args({"--passphrase-fd", "-1"}, {}, context, "status"));
}

TEST_CASE("everything after -- is positional", "[args]") {
    Context context;
    auto parsed = parse_args({"--", "--json", "-h"}, {{"--json", false}}, context, "x");
    REQUIRE(parsed);
    CHECK_FALSE(parsed->help);
    CHECK_FALSE(parsed->has("--json"));
    CHECK(parsed->positional == std::vector<std::string>{"--json", "-h"});
}
