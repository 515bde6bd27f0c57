// The help texts, the man page and the command table must not drift apart.
#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <sstream>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ghostpod::test;

namespace {

// Command names from the "Commands:" section of `ghostpod --help`, e.g. "secret set".
std::vector<std::string> listed_commands() {
    auto r = run({ghostpod_binary(), "--help"});
    REQUIRE(r.exit_code == 0);
    std::istringstream in(r.out);
    std::string line;
    bool in_commands = false;
    std::vector<std::string> commands;
    while (std::getline(in, line)) {
        if (line == "Commands:") {
            in_commands = true;
            continue;
        }
        if (in_commands && line.empty()) break;
        if (!in_commands) continue;
        if (line.rfind("   ", 0) == 0) continue;  // a description's continuation line
        line = line.substr(0, line.find("  ", 2));  // the command column only
        std::istringstream words(line);
        std::string word, name;
        while (words >> word && std::islower(static_cast<unsigned char>(word[0]))) name += (name.empty() ? "" : " ") + word;
        commands.push_back(name);
    }
    return commands;
}

std::string man_text() {
    std::string text = read_text(source_dir() + "/man/ghostpod.1");
    // Drop roff font escapes so "\fBsecret set\fR" and ".B secret set" both read as plain text.
    text = std::regex_replace(text, std::regex(R"(\\f[BIRP])"), "");
    text = std::regex_replace(text, std::regex(R"(\\-)"), "-");
    return text;
}

}  // namespace

TEST_CASE("every command in --help has its own help and a place in ghostpod(1)", "[help]") {
    auto commands = listed_commands();
    REQUIRE(commands.size() >= 8);
    std::string man = man_text();
    for (const auto& command : commands) {
        INFO("command: " << command);
        std::vector<std::string> argv = {ghostpod_binary(), "help"};
        std::istringstream words(command);
        for (std::string w; words >> w;) argv.push_back(w);
        auto r = run(argv);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("Usage: ghostpod " + command) != std::string::npos);
        CHECK(man.find(command) != std::string::npos);
        // Every option the command's help names is documented in the man page too.
        std::regex option(R"(--[a-z][a-z-]+)");
        for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), option); it != std::sregex_iterator(); ++it) {
            INFO("option: " << it->str());
            CHECK(man.find(it->str()) != std::string::npos);
        }
    }
}

TEST_CASE("the help option after any command prints that command's help and exits 0", "[help]") {
    for (std::vector<std::string> cmd : {std::vector<std::string>{"init"}, {"secret", "set"}, {"secret", "get"},
                                         {"secret", "ls"}, {"secret", "rm"}, {"passwd"}, {"status"}}) {
        std::vector<std::string> argv = {ghostpod_binary()};
        argv.insert(argv.end(), cmd.begin(), cmd.end());
        argv.push_back("--help");
        auto r = run(argv);
        INFO(argv[1]);
        CHECK(r.exit_code == 0);
        CHECK(r.out.rfind("Usage: ghostpod " + cmd[0], 0) == 0);
        CHECK(r.err.empty());
    }
}

TEST_CASE("every exit code in --help is documented in ghostpod(1)", "[help]") {
    std::string man = man_text();
    for (const char* phrase : {"wrong passphrase", "usage error", "network", "session"})
        CHECK(man.find(phrase) != std::string::npos);
}

TEST_CASE("an unknown command or option exits 2 and points to --help", "[help]") {
    auto r = run({ghostpod_binary(), "frobnicate"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("unknown command 'frobnicate'") != std::string::npos);
    CHECK(r.err.find("hint:") != std::string::npos);
    auto o = run({ghostpod_binary(), "--bogus", "status"});
    CHECK(o.exit_code == 2);
    auto none = run({ghostpod_binary()});
    CHECK(none.exit_code == 2);
    CHECK(none.out.find("Usage:") != std::string::npos);
}

TEST_CASE("the version option prints the version", "[help]") {
    auto r = run({ghostpod_binary(), "--version"});
    CHECK(r.exit_code == 0);
    CHECK(std::regex_match(r.out, std::regex(R"(ghostpod \d+\.\d+\.\d+\n)")));
}
