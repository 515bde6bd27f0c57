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

namespace {

RunOptions in_directory(const std::string& cwd) {
    RunOptions o;
    o.cwd = cwd;
    o.close_stdin = true;
    o.env["HOME"] = cwd;
    o.env["GHOSTPOD_CONFIG"] = "";
    o.env["XDG_CONFIG_HOME"] = "";
    return o;
}

}  // namespace

std::string bash_complete_in(const std::string& words, const std::string& cwd) {
    std::string script = "unset GHOSTPOD_CONFIG XDG_CONFIG_HOME; source \"$1\"; COMP_WORDS=(" + words +
                         "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ghostpod; printf '%s\\n' \"${COMPREPLY[@]}\" | sed '/^$/d'";
    auto r = run({"bash", "--norc", "--noprofile", "-c", script, "bash", source_dir() + "/completions/ghostpod.bash"}, in_directory(cwd));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

std::string zsh_profile_names(const std::string& cwd) {
    if (run({"zsh", "-fc", "true"}).exit_code != 0) FAIL("zsh is not installed (scripts/install-deps.sh installs it)");
    // Sourcing the file outside completion defines its functions (its last line's call fails
    // there, silently).
    std::string script = "unset GHOSTPOD_CONFIG XDG_CONFIG_HOME; source \"$1\" 2>/dev/null; "
                         "_ghostpod_profile_names \"$(_ghostpod_config_file)\"";
    auto r = run({"zsh", "-f", "-c", script, "zsh", source_dir() + "/completions/_ghostpod"}, in_directory(cwd));
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
