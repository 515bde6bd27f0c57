// The command table drives dispatch and help; ghostpod(1) and both shell completions must name
// every command and option it has, so none of them drifts from the binary.
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

#include "pod/cli/command_table.hpp"
#include "tests/support/completion.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ghostpod;
using namespace ghostpod::test;

namespace {

std::string man_text() {
    std::string text = read_text(source_dir() + "/man/ghostpod.1");
    // Drop roff font escapes so "\fBsecret set\fR" and ".B secret set" both read as plain text.
    text = std::regex_replace(text, std::regex(R"(\\f[BIRP])"), "");
    text = std::regex_replace(text, std::regex(R"(\\-)"), "-");
    return text;
}

std::vector<std::string> words_of(const std::string& name) {
    std::istringstream in(name);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

}  // namespace

TEST_CASE("every command of the table answers --help and 'help NAME' with its table text", "[help]") {
    REQUIRE(command_table().size() >= 20);
    for (const auto& c : command_table()) {
        INFO("command: " << c.name);
        std::vector<std::string> argv = {ghostpod_binary()};
        for (const auto& w : words_of(c.name)) argv.push_back(w);
        argv.push_back("--help");
        auto r = run(argv);
        CHECK(r.exit_code == 0);
        CHECK(r.out == help_text(c));
        CHECK(r.out.rfind("Usage: ghostpod " + c.name, 0) == 0);
        CHECK(r.err.empty());
        std::vector<std::string> help = {ghostpod_binary(), "help"};
        for (const auto& w : words_of(c.name)) help.push_back(w);
        auto h = run(help);
        CHECK(h.exit_code == 0);
        CHECK(h.out == r.out);
    }
}

TEST_CASE("the overview lists every command that runs, with its summary", "[help]") {
    auto r = run({ghostpod_binary(), "--help"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == overview_text());
    for (const auto& c : command_table()) {
        INFO("command: " << c.name);
        if (c.handler == nullptr) {
            CHECK_FALSE(subcommands_of(c).empty());
            continue;
        }
        CHECK(r.out.find("\n  " + c.name) != std::string::npos);
        CHECK(r.out.find(c.summary) != std::string::npos);
    }
}

TEST_CASE("ghostpod(1) documents every command and every option of the table", "[help]") {
    std::string man = man_text();
    for (const auto& c : command_table()) {
        INFO("command: " << c.name);
        CHECK(man.find(c.name) != std::string::npos);
        for (const auto& o : c.options) {
            INFO("option: " << o.name);
            CHECK(man.find(o.name) != std::string::npos);
        }
    }
    for (const auto& o : global_options()) CHECK(man.find(o.name) != std::string::npos);
}

TEST_CASE("the bash completion offers every command, subcommand and option of the table", "[help]") {
    std::string top = bash_complete("ghostpod ''");
    for (const auto& c : command_table()) {
        INFO("command: " << c.name);
        auto words = words_of(c.name);
        if (words.size() == 1) CHECK(has_line(top, words[0]));
        if (words.size() == 2) CHECK(has_line(bash_complete("ghostpod " + words[0] + " ''"), words[1]));
        if (c.handler == nullptr || c.options.empty()) continue;
        std::string options = bash_complete("ghostpod " + c.name + " --");
        for (const auto& o : c.options) {
            INFO("option: " << o.name);
            CHECK(has_line(options, o.name));
        }
    }
    std::string globals = bash_complete("ghostpod --");
    for (const auto& o : global_options()) CHECK(has_line(globals, o.name));
}

TEST_CASE("the zsh completion names every command, subcommand and option of the table", "[help]") {
    std::string zsh = read_text(source_dir() + "/completions/_ghostpod");
    for (const auto& c : command_table()) {
        INFO("command: " << c.name);
        CHECK(zsh.find(words_of(c.name).back()) != std::string::npos);
        for (const auto& o : c.options) {
            INFO("option: " << o.name);
            CHECK(zsh.find(o.name) != std::string::npos);
        }
    }
}

TEST_CASE("every exit code in --help is documented in ghostpod(1)", "[help]") {
    std::string man = man_text();
    for (const char* phrase : {"wrong passphrase", "usage error", "network", "session"})
        CHECK(man.find(phrase) != std::string::npos);
}

TEST_CASE("an unknown command, subcommand or option exits 2 and points to --help", "[help]") {
    auto r = run({ghostpod_binary(), "frobnicate"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("unknown command 'frobnicate'") != std::string::npos);
    CHECK(r.err.find("hint:") != std::string::npos);
    auto sub = run({ghostpod_binary(), "secret", "frobnicate"});
    CHECK(sub.exit_code == 2);
    CHECK(sub.err.find("unknown subcommand 'frobnicate'") != std::string::npos);
    auto o = run({ghostpod_binary(), "--bogus", "status"});
    CHECK(o.exit_code == 2);
    auto none = run({ghostpod_binary()});
    CHECK(none.exit_code == 2);
    CHECK(none.out.find("Usage:") != std::string::npos);
    auto group = run({ghostpod_binary(), "identity"});
    CHECK(group.exit_code == 2);
    CHECK(group.out.rfind("Usage: ghostpod identity", 0) == 0);
}

TEST_CASE("the version option prints the version", "[help]") {
    auto r = run({ghostpod_binary(), "--version"});
    CHECK(r.exit_code == 0);
    CHECK(std::regex_match(r.out, std::regex(R"(ghostpod \d+\.\d+\.\d+\n)")));
}
