// The marker that a process holds the session's credentials: commands in the ghost get
// GHOSTPOD_SESSION=vault=<name>;profile=<P or *>, and shell and enter put it in front of the
// prompt the shell's own rc files leave, unless session.prompt is false or GHOSTPOD_PROMPT=0.
// Driven on a real terminal (tmux) with the real bash and its rc file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/support/session.hpp"
#include "tests/support/tmux.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;

TEST_CASE("commands in the ghost get GHOSTPOD_SESSION naming the vault and the profile", "[session][marker]") {
    ProfileVault p("api/token");
    start_lingering_session(p.v, unique_sleep(), p.options);
    auto full = p.v.gp_with({"run", "--", "sh", "-c", "echo \"$GHOSTPOD_SESSION\""}, p.options);
    INFO(full.err);
    CHECK(full.out == "vault=vault;profile=*\n");
    auto narrowed = p.v.gp_with({"run", "--profile", "terraform", "--", "sh", "-c", "echo \"$GHOSTPOD_SESSION\""}, p.options);
    CHECK(narrowed.out == "vault=vault;profile=terraform\n");
    // From inside, a profile's command says so too.
    std::string gp = "'" + ghostpod_binary() + "'";
    auto inside = p.v.gp_with({"run", "--", "sh", "-c", gp + " run --profile terraform -- sh -c 'echo \"$GHOSTPOD_SESSION\"'"},
                              p.options);
    CHECK(inside.out == "vault=vault;profile=terraform\n");
    REQUIRE(p.v.gp_with({"lock"}, p.options).exit_code == 0);
}

TEST_CASE("a project vault is named after its project directory, and odd characters never reach the marker",
          "[session][marker]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    std::string project = v.dir / "my proj$(id)/.ghostpod";
    fs::create_directories(project);
    fs::copy_file(v.vault, project + "/vault");
    RunOptions o = v.options();
    auto r = run({ghostpod_binary(), "--vault", project + "/vault", "--passphrase-fd", "3", "run", "--", "sh", "-c",
                  "echo \"$GHOSTPOD_SESSION\""},
                 o);
    INFO(r.err);
    CHECK(r.out == "vault=my_proj__id_;profile=*\n");
}

TEST_CASE("shell marks the prompt the user's .bashrc sets, with the profile, and GHOSTPOD_PROMPT=0 or the session's session.prompt false removes the mark",
          "[session][marker][tty]") {
    ProfileVault p("api/token");
    write_text(p.v.dir / ".bashrc", "PS1='rc-prompt> '\n");
    start_lingering_session(p.v, unique_sleep(), p.options);
    Tmux t;
    start_shell(t, p.v, "GHOSTPOD_CONFIG='" + p.options.env.at("GHOSTPOD_CONFIG") + "'");
    t.keys("gp shell");
    CHECK(t.shows("(ghostpod:vault) rc-prompt>"));
    t.keys("echo marked-$((20+1)); cd /; cd - >/dev/null");  // a few prompts later, marked once
    CHECK(t.shows("marked-21"));
    CHECK(t.count("(ghostpod:vault) (ghostpod:vault)") == 0);
    t.keys("exit");
    REQUIRE(t.shell_in_foreground());
    t.keys("clear; gp enter --profile terraform");
    CHECK(t.shows("(ghostpod:vault/terraform) rc-prompt>"));
    t.keys("exit");
    REQUIRE(t.shell_in_foreground());
    t.keys("clear; GHOSTPOD_PROMPT=0 gp enter");
    CHECK(t.shows("rc-prompt>"));
    t.keys("echo unmarked-$((30+1))");
    CHECK(t.shows("unmarked-31"));
    INFO(t.screen());
    CHECK(t.count("(ghostpod:") == 0);
    t.keys("exit");
    REQUIRE(t.shell_in_foreground());
    // The shells' new ~/.bash_history lives in the ghost's shadow of HOME: a plain lock refuses.
    REQUIRE(p.v.gp_with({"lock", "--discard"}, p.options).exit_code == 0);
    // session.prompt is the session's: false in the config that starts it, no mark in any join
    // (which reads no config of its own).
    std::string quiet = p.v.dir / "quiet.json";
    write_text(quiet, R"({"version": 1, "session": {"prompt": false}, "profiles": {"terraform": ["aws/credentials"]}})");
    RunOptions quiet_options = p.options;
    quiet_options.env["GHOSTPOD_CONFIG"] = quiet;
    start_lingering_session(p.v, unique_sleep(), quiet_options);
    t.keys("clear; '" + ghostpod_binary() + "' --vault '" + p.v.vault + "' enter");
    CHECK(t.shows("rc-prompt>"));
    t.keys("echo config-off-$((40+1))");
    CHECK(t.shows("config-off-41"));
    CHECK(t.count("(ghostpod:") == 0);
    t.keys("exit");
    REQUIRE(p.v.gp_with({"lock", "--discard"}, quiet_options).exit_code == 0);
}

TEST_CASE("a shell other than bash gets the marked prompt through PS1", "[session][marker][tty]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    start_lingering_session(v, unique_sleep());
    Tmux t;
    start_shell(t, v, "SHELL=/bin/sh");
    t.keys("clear; gp enter");
    CHECK(t.shows("(ghostpod:vault) $"));
    t.keys("exit");
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}
