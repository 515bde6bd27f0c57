#include "tests/support/completion.hpp"

#include <catch2/catch.hpp>

#include <sstream>

#include "tests/support/process.hpp"

namespace ghostpod::test {

std::string bash_complete(const std::string& words) {
    std::string script = "source \"$1\"; COMP_WORDS=(" + words + "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                         "_ghostpod; printf '%s\\n' \"${COMPREPLY[@]}\"";
    auto r = run({"bash", "--norc", "--noprofile", "-c", script, "bash", source_dir() + "/completions/ghostpod.bash"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

bool has_line(const std::string& text, const std::string& line) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (l == line) return true;
    return false;
}

}  // namespace ghostpod::test
