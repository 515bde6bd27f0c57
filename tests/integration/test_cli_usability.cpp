// The small things an operator meets every day: "did you mean", config syntax errors with
// their place, three passphrase tries on a terminal (tmux), a warning for short passphrases,
// the passphrase before the value in 'secret set', and --json on pull, lock and identity show.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/support/infisical_setup.hpp"
#include "tests/support/session.hpp"
#include "tests/support/tmux.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
using json = nlohmann::json;

namespace {

RunResult run_ghostpod(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {ghostpod_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

// Types `gp ARGS` into the pane's shell, then a line showing its exit status ("exit=N": the
// typed line itself shows "exit=$?").
void type_gp(const Tmux& t, const std::string& args) { t.keys("gp " + args + "; echo \"exit=$?\""); }

}  // namespace

TEST_CASE("a mistyped command, subcommand, option or help topic gets a 'did you mean'", "[usability]") {
    struct Case {
        std::vector<std::string> args;
        std::string suggestion;
    };
    for (const auto& c : std::vector<Case>{{{"stauts"}, "did you mean 'status'?"},
                                           {{"secret", "lss"}, "did you mean 'ls'?"},
                                           {{"secrte", "ls"}, "did you mean 'secret'?"},
                                           {{"secret", "ls", "--jsno"}, "did you mean '--json'?"},
                                           {{"run", "--profle", "p", "--", "true"}, "did you mean '--profile'?"},
                                           {{"--vualt", "x", "status"}, "did you mean '--vault'?"},
                                           {{"identity", "shwo"}, "did you mean 'show'?"},
                                           {{"expor"}, "did you mean 'export'?"},
                                           {{"help", "secert", "set"}, "did you mean 'secret set'?"}}) {
        INFO(c.args[0] << " " << (c.args.size() > 1 ? c.args[1] : ""));
        auto r = run_ghostpod(c.args);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, "hint: " + c.suggestion));
    }
    auto far = run_ghostpod({"frobnicate"});
    CHECK(far.exit_code == 2);
    CHECK_FALSE(contains(far.err, "did you mean"));
    CHECK(contains(far.err, "hint: see 'ghostpod --help'"));
}

TEST_CASE("a config with a JSON syntax error names its line and column, not its text", "[usability]") {
    VaultFixture v;
    std::string config = v.dir / "config.json";
    write_text(config, "{\n  \"version\": 1,\n  \"secrets\": {\n    \"a\": {\"env\": \"X\",}\n  },\n  \"k\": \"tok-SECRETLIKE\"\n}\n");
    auto o = v.options();
    o.env["GHOSTPOD_CONFIG"] = config;
    auto r = v.gp_with({"run", "--", "true"}, o);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "read config " + config + ": JSON syntax error at line 4, column 22"));
    CHECK_FALSE(contains(r.err, "SECRETLIKE"));
    write_text(config, "{\"version\": 1, \"session\": {\"ttl\": \"8h\"}\n");
    auto unterminated = v.gp_with({"run", "--", "true"}, o);
    CHECK(unterminated.exit_code == 2);
    CHECK(contains(unterminated.err, "JSON syntax error at line 2, column 1"));
    write_text(config, "[1, 2]");
    CHECK(contains(v.gp_with({"run", "--", "true"}, o).err, "not a JSON object"));
}

TEST_CASE("a wrong passphrase on a terminal is asked again, up to three times", "[usability][tty]") {
    VaultFixture v;
    std::string value = random_marker("value-");
    REQUIRE(v.set("a", value).exit_code == 0);

    SECTION("the third try may be right") {
        Tmux t;
        start_shell(t, v);
        type_gp(t, "secret get a");
        REQUIRE(t.shows("Passphrase for", 20));
        t.keys("wrong-1");
        REQUIRE(t.shows("try again (2 of 3)", 20));
        t.keys("wrong-2");
        REQUIRE(t.shows("try again (3 of 3)", 20));
        t.keys(v.passphrase);
        INFO(t.screen());
        CHECK(t.shows("exit=0", 20));
        CHECK(t.shows(value, 20));
    }
    SECTION("three wrong tries exit 3") {
        Tmux t;
        start_shell(t, v);
        type_gp(t, "secret get a");
        for (int i = 1; i <= 3; ++i) {
            REQUIRE(t.shows("Passphrase for", 20));
            t.keys("wrong-" + std::to_string(i));
            if (i < 3) REQUIRE(t.shows("(" + std::to_string(i + 1) + " of 3)", 20));
        }
        INFO(t.screen());
        CHECK(t.shows("exit=3", 20));
        CHECK(t.count("Passphrase for") == 3);
        CHECK(t.shows("wrong passphrase or damaged file", 20));
    }
    SECTION("a session's start asks again too") {
        Tmux t;
        start_shell(t, v);
        type_gp(t, "run -- sh -c 'echo started-$((40+2))'");
        REQUIRE(t.shows("Passphrase for", 20));
        t.keys("wrong");
        REQUIRE(t.shows("try again (2 of 3)", 20));
        t.keys(v.passphrase);
        INFO(t.screen());
        CHECK(t.shows("started-42", 20));
        CHECK(t.shows("exit=0", 20));
    }
    SECTION("a session started after a wrong try still gets the INFISICAL_* identity of the environment") {
        // The vault holds no identity: the pull can log in only with what the environment gave,
        // handed to the second holder (the first, with the wrong passphrase, ended).
        std::string pulled = random_marker("pulled-");
        FakeInfisical server(one_folder_world({{"API_TOKEN", pulled}}));
        std::string config = v.dir / "config.json";
        write_text(config, json{{"version", 1},
                                {"infisical", {{"host", server.url()}, {"project_id", "proj-1"}, {"environment", "dev"}, {"cacert", server.ca_path()}}}}
                               .dump());
        Tmux t;
        start_shell(t, v, "GHOSTPOD_CONFIG='" + config + "' INFISICAL_UNIVERSAL_AUTH_CLIENT_ID=id INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET=secret");
        type_gp(t, "pull -q -- sh -c 'echo \"got-$(cat \"$GHOSTPOD_DIR/infisical/API_TOKEN\")-$INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET-\"'");
        REQUIRE(t.shows("Passphrase for", 20));
        t.keys("wrong");
        REQUIRE(t.shows("try again (2 of 3)", 20));
        t.keys(v.passphrase);
        INFO(t.screen());
        CHECK(t.shows("got-" + pulled + "--", 30));  // pulled; and the secret is not in the command's environment
        CHECK(t.shows("exit=0", 20));  // and the session ended with the command
    }
    SECTION("--passphrase-fd gets one try, even with a terminal") {
        Tmux t;
        start_shell(t, v);
        type_gp(t, "--passphrase-fd 3 secret get a 3<<<wrong-once");
        INFO(t.screen());
        CHECK(t.shows("exit=3", 20));
        CHECK(t.count("Passphrase for") == 0);
        CHECK(t.count("try again (") == 0);
    }
}

TEST_CASE("secret set on a terminal asks the passphrase before the value", "[usability][tty]") {
    VaultFixture v;
    std::string value = random_marker("typed-");
    Tmux t;
    start_shell(t, v);
    type_gp(t, "secret set typed/name");
    REQUIRE(t.shows("Passphrase for", 20));
    CHECK(t.count("Value for") == 0);
    t.keys("wrong");
    REQUIRE(t.shows("try again (2 of 3)", 20));  // checked before the value is asked
    CHECK(t.count("Value for") == 0);
    t.keys(v.passphrase);
    REQUIRE(t.shows("Value for typed/name", 20));
    t.keys(value);
    INFO(t.screen());
    CHECK(t.shows("exit=0", 20));
    CHECK(v.get("typed/name").out == value);
}

TEST_CASE("init and passwd warn about a passphrase under 12 characters but accept it", "[usability]") {
    TempDir dir;
    RunOptions o;
    o.cwd = dir.path();
    o.env = {{"HOME", dir.path()}, {"GHOSTPOD_VAULT", ""}, {"GHOSTPOD_CONFIG", ""}};
    o.fd_data[3] = "p\xc3\xa4sswort\n";  // 8 characters in 9 bytes
    auto init = run(gp(dir / "vault", {"init", "--kdf", "interactive"}), o);
    INFO(init.err);
    CHECK(init.exit_code == 0);
    CHECK(contains(init.err, "warning: the new passphrase is only 8 character(s) long; one of 12 or more"));
    o.fd_data[3] = "p\xc3\xa4sswort\nseveral words here\n";
    auto long_enough = run(gp(dir / "vault", {"passwd", "--new-passphrase-fd", "3"}), o);
    CHECK(long_enough.exit_code == 0);
    CHECK_FALSE(contains(long_enough.err, "warning"));
    o.fd_data[3] = "several words here\nshort\n";
    auto shortened = run(gp(dir / "vault", {"passwd", "--new-passphrase-fd", "3"}), o);
    CHECK(shortened.exit_code == 0);
    CHECK(contains(shortened.err, "only 5 character(s) long"));
    o.fd_data[3] = "short\n";
    CHECK(run(gp(dir / "vault", {"secret", "ls"}), o).exit_code == 0);
}

TEST_CASE("lock, identity show and pull answer --json", "[usability]") {
    std::string pulled = random_marker("pulled-");
    FakeInfisical server(one_folder_world({{"API_TOKEN", pulled}}));
    VaultFixture v;
    std::string config = v.dir / "config.json";
    prepare_pull(v, server, config);
    auto o = pull_options(v, config);

    auto identity = v.gp_with({"identity", "show", "--json"}, o);
    INFO(identity.err);
    REQUIRE(identity.exit_code == 0);
    auto shown = json::parse(identity.out);
    CHECK(shown["vault"] == v.vault);
    REQUIRE(shown["identities"].size() == 1);  // no Vault AppRole in this vault
    auto infisical = shown["identities"][0];
    CHECK(infisical["backend"] == "infisical");
    CHECK(infisical["id"] == "id");
    CHECK(infisical["secret_stored"] == true);
    CHECK(infisical["pin"].is_null());  // pinned by the first pull, below
    CHECK_FALSE(contains(identity.out, "\"secret\""));  // the client secret ("secret") is never shown

    auto pull = v.gp_with({"pull", "--no-shell", "--json"}, o);
    INFO(pull.err);
    REQUIRE(pull.exit_code == 0);
    auto summary = json::parse(pull.out);
    CHECK(summary["secrets"] == 1);
    CHECK(summary["source"] == "server");
    CHECK(summary["host"].get<std::string>().rfind(server.url(), 0) == 0);
    CHECK(summary["environment"] == "dev");
    CHECK(summary["session_started"] == true);
    CHECK_FALSE(contains(pull.out, pulled));

    auto lock = v.gp_with({"lock", "--json"}, o);
    REQUIRE(lock.exit_code == 0);
    auto locked = json::parse(lock.out);
    CHECK(locked["locked"] == true);
    CHECK(locked["vault"] == v.vault);
    auto pinned = json::parse(v.gp_with({"identity", "show", "--json"}, o).out);
    CHECK(pinned["identities"][0]["pin"]["host"].get<std::string>().rfind(server.url(), 0) == 0);
    CHECK(pinned["identities"][0]["pin"]["ca_sha256"].size() == 1);
    auto again = v.gp_with({"lock", "--json"}, o);
    CHECK(again.exit_code == 5);
    CHECK(again.out.empty());
}
