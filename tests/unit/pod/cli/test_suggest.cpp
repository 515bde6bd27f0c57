// "Did you mean": the edit distance and which candidates are near enough to suggest.
#include <catch2/catch.hpp>

#include "pod/cli/suggest.hpp"

using namespace ghostpod;

TEST_CASE("the edit distance counts insertions, deletions, substitutions and transpositions as one", "[suggest]") {
    CHECK(edit_distance("status", "status") == 0);
    CHECK(edit_distance("stauts", "status") == 1);  // transposition
    CHECK(edit_distance("statu", "status") == 1);   // insertion
    CHECK(edit_distance("statuss", "status") == 1); // deletion
    CHECK(edit_distance("stutus", "status") == 1);  // substitution
    CHECK(edit_distance("", "lock") == 4);
    CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("near candidates are suggested, ties together, far ones never", "[suggest]") {
    std::vector<std::string> commands = {"init", "secret", "status", "save", "lock", "shell", "set", "get"};
    CHECK(nearest_words("stauts", commands) == std::vector<std::string>{"status"});
    CHECK(nearest_words("sve", commands) == std::vector<std::string>{"save"});
    CHECK(nearest_words("et", commands) == std::vector<std::string>{"set", "get"});
    CHECK(nearest_words("frobnicate", commands).empty());
    CHECK(nearest_words("x", commands).empty());
    CHECK(nearest_words("stat", commands) == std::vector<std::string>{"status"});  // a unique prefix
    CHECK(nearest_words("s", commands).empty());                                  // too short to guess
    CHECK(nearest_words("--jsno", {"--json", "--file"}) == std::vector<std::string>{"--json"});
    CHECK(nearest_words("-json", {"--json"}) == std::vector<std::string>{"--json"});
    CHECK(did_you_mean("et", commands) == "did you mean 'set' or 'get'?");
    CHECK(did_you_mean("zzzzzz", commands).empty());
}
