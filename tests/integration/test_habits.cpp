// The tools' own habits in the ghost: the caller's proxy and AWS variables (and session.pass_env)
// reach commands, never a refused variable; a mapped path that is a symbolic link (a dotfiles
// manager's) is replaced in the ghost's view, never followed, whatever it points to; a mapping
// with mode 0600 is a file kubectl edits in place and 'save' keeps; run --mask conceals the
// session's values in a command's output, on a terminal and off one, across write boundaries.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "tests/support/session.hpp"
#include "tests/support/tmux.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kConcealed = "<concealed by ghostpod>";

// The fixture's options with `json` as the config (GHOSTPOD_CONFIG: trusted as given).
RunOptions with_config(const VaultFixture& v, const std::string& json) {
    write_text(v.dir / "config.json", json);
    RunOptions o = v.options();
    o.env["GHOSTPOD_CONFIG"] = v.dir / "config.json";
    return o;
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

const std::string kTwoContexts = R"(apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://127.0.0.1:6443"}
  name: c
contexts:
- context: {cluster: c, user: u}
  name: first-ctx
- context: {cluster: c, user: u}
  name: second-ctx
current-context: first-ctx
users:
- name: u
  user: {token: "habit-token"}
)";

}  // namespace

TEST_CASE("the caller's proxy and AWS variables reach a command in the ghost, others do not", "[session][env]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    RunOptions o = v.options();
    o.env["HTTPS_PROXY"] = "http://127.0.0.1:3128";
    o.env["https_proxy"] = "http://127.0.0.1:3129";
    o.env["NO_PROXY"] = "localhost,127.0.0.1";
    o.env["all_proxy"] = "socks5://127.0.0.1:1080";
    o.env["AWS_PROFILE"] = "ops";
    o.env["AWS_DEFAULT_REGION"] = "eu-west-1";
    o.env["KUBE_X"] = "not-by-default";
    o.env["LD_PRELOAD"] = "/nonexistent/preload.so";
    auto r = run(gp(v.vault, {"run", "--", "env"}), o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(has_line(r.out, "HTTPS_PROXY=http://127.0.0.1:3128"));
    CHECK(has_line(r.out, "https_proxy=http://127.0.0.1:3129"));
    CHECK(has_line(r.out, "NO_PROXY=localhost,127.0.0.1"));
    CHECK(has_line(r.out, "all_proxy=socks5://127.0.0.1:1080"));
    CHECK(has_line(r.out, "AWS_PROFILE=ops"));
    CHECK(has_line(r.out, "AWS_DEFAULT_REGION=eu-west-1"));
    CHECK_FALSE(contains(r.out, "KUBE_X"));
    CHECK_FALSE(contains(r.out, "LD_PRELOAD"));
}

TEST_CASE("session.pass_env passes names and PREFIX_* patterns, never a refused variable", "[session][env]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    RunOptions o = with_config(v, R"({"version": 1, "session": {"pass_env": ["KUBE_*", "TF_*", "VAULT_ADDR"]}})");
    o.env["KUBE_X"] = "kube-passed";
    o.env["TF_LOG"] = "DEBUG";
    o.env["VAULT_ADDR"] = "https://127.0.0.1:8200";
    o.env["KUBE_EDITOR"] = "/tmp/evil-editor";   // *EDITOR: runs a program
    o.env["TF_CLI_ARGS"] = "-var=evil";           // TF_CLI_*: options of every terraform run
    o.env["TF_PLUGIN_CACHE_DIR"] = "/tmp/plugins"; // a place to load code from
    o.env["KUBEPATH"] = "/x";
    o.env["OTHER_X"] = "not-listed";
    auto r = run(gp(v.vault, {"run", "--", "env"}), o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(has_line(r.out, "KUBE_X=kube-passed"));
    CHECK(has_line(r.out, "TF_LOG=DEBUG"));
    CHECK(has_line(r.out, "VAULT_ADDR=https://127.0.0.1:8200"));
    CHECK_FALSE(contains(r.out, "KUBE_EDITOR"));
    CHECK_FALSE(contains(r.out, "TF_CLI_ARGS"));
    CHECK_FALSE(contains(r.out, "TF_PLUGIN_CACHE_DIR"));
    CHECK_FALSE(contains(r.out, "KUBEPATH"));
    CHECK_FALSE(contains(r.out, "OTHER_X"));
}

TEST_CASE("a join reads no config: the session keeps the pass_env and prompt of the config that started it", "[session][env]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    RunOptions o = with_config(v, R"({"version": 1, "session": {"pass_env": ["KUBE_*"], "prompt": false}})");
    start_lingering_session(v, unique_sleep(), o);
    o.env["KUBE_X"] = "kube-passed";
    o.env["TF_LOG"] = "DEBUG";
    o.env["SHELL"] = "/bin/sh";
    // The config is now unreadable, then says otherwise: a join reads neither.
    for (const char* text : {"{not json", R"({"version": 1, "session": {"pass_env": ["TF_*"], "prompt": true}})"}) {
        INFO(text);
        write_text(v.dir / "config.json", text);
        auto r = run(gp(v.vault, {"run", "--", "env"}), o);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(has_line(r.out, "KUBE_X=kube-passed"));
        CHECK_FALSE(contains(r.out, "TF_LOG"));
        RunOptions in_shell = o;
        in_shell.stdin_data = "env\n";
        auto shell = run(gp(v.vault, {"shell"}), in_shell);
        INFO(shell.err);
        REQUIRE(shell.exit_code == 0);
        CHECK(has_line(shell.out, "KUBE_X=kube-passed"));
        CHECK_FALSE(contains(shell.out, "PS1=(ghostpod"));  // session.prompt false, as the session has it
    }
    // --profile reads the config (its profiles are read each time): an unreadable one stops it.
    write_text(v.dir / "config.json", "{not json");
    auto profiled = run(gp(v.vault, {"run", "--profile", "p", "--", "true"}), o);
    CHECK(profiled.exit_code != 0);
    CHECK(contains(profiled.err, v.dir / "config.json"));
    write_text(v.dir / "config.json", R"({"version": 1})");
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("session.pass_env entries that would pass a refused variable are a config error", "[session][env]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    for (const char* entry : {"LD_*", "*", "L*", "LD_PRE*", "GHOSTPOD_*", "PYTHON_*", "LD_PRELOAD", "PYTHONPATH", "BASH_ENV",
                              "KUBE", "KUBE_X=1", "_*"}) {
        INFO(entry);
        RunOptions o = with_config(v, std::string(R"({"version": 1, "session": {"pass_env": [")") + entry + "\"]}}");
        o.env["LD_PRELOAD"] = "/nonexistent/preload.so";
        auto r = run(gp(v.vault, {"run", "--", "env"}), o);
        if (std::string(entry) == "KUBE") {  // a plain name, which no rule refuses
            CHECK(r.exit_code == 0);
            continue;
        }
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, "session.pass_env"));
        CHECK(contains(r.err, entry));
        CHECK_FALSE(contains(r.out, "LD_PRELOAD"));
    }
}

TEST_CASE("a mapped path that is a symbolic link is replaced in the ghost's view, the link and its target stay", "[session][links]") {
    VaultFixture v;
    const std::string secret = random_marker("kube-secret-");
    REQUIRE(v.set("kube/config", secret).exit_code == 0);
    fs::create_directories(v.dir / "dotfiles/kube");
    fs::create_directories(v.dir / ".kube");
    write_text(v.dir / "dotfiles/kube/config", "the user's own kubeconfig\n");
    fs::create_symlink(v.dir / "dotfiles/kube/config", v.dir / ".kube/config");
    write_text(v.dir / ".kube/other", "kept\n");
    auto r = v.gp({"run", "--", "sh", "-c",
                   "cat ~/.kube/config; echo; cat \"$KUBECONFIG\"; echo; cat ~/dotfiles/kube/config ~/.kube/other;"
                   "test -L ~/.kube/config && echo still-a-link; true"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == secret + "\n" + secret + "\nthe user's own kubeconfig\nkept\n");
    // On disk: the same link to the same file, which holds what it held.
    CHECK(fs::is_symlink(v.dir / ".kube/config"));
    CHECK(fs::read_symlink(v.dir / ".kube/config") == v.dir / "dotfiles/kube/config");
    CHECK(read_text(v.dir / "dotfiles/kube/config") == "the user's own kubeconfig\n");
}

TEST_CASE("links at mapped paths to a system file, to /proc, to themselves or nowhere are never followed", "[session][links]") {
    VaultFixture v;
    const std::string secret = random_marker("hostile-");
    for (const char* name : {"a", "b", "c", "d"}) REQUIRE(v.set(name, secret + name).exit_code == 0);
    RunOptions o = with_config(v, R"({"version": 1, "secrets": {"a": {"path": "~/links/to-etc"}, "b": {"path": "~/links/to-proc"},
                                      "c": {"path": "~/links/loop"}, "d": {"path": "~/links/dangling"}}})");
    fs::create_directories(v.dir / "links");
    fs::create_symlink("/etc/hostname", v.dir / "links/to-etc");
    fs::create_symlink("/proc/self/environ", v.dir / "links/to-proc");
    fs::create_symlink("loop", v.dir / "links/loop");
    fs::create_symlink(v.dir / "nowhere/file", v.dir / "links/dangling");
    std::string hostname = read_text("/etc/hostname");
    auto r = run(gp(v.vault, {"run", "--", "sh", "-c",
                              "cd ~/links && cat to-etc; echo; cat to-proc; echo; cat loop; echo; cat dangling; echo; "
                              "cat /etc/hostname; test -e ~/nowhere || echo no-nowhere"}),
                 o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == secret + "a\n" + secret + "b\n" + secret + "c\n" + secret + "d\n" + hostname + "no-nowhere\n");
    CHECK(read_text("/etc/hostname") == hostname);
    CHECK(fs::read_symlink(v.dir / "links/loop") == "loop");
    CHECK(fs::read_symlink(v.dir / "links/dangling") == v.dir / "nowhere/file");
    CHECK_FALSE(fs::exists(v.dir / "nowhere"));
}

TEST_CASE("a mapping's mode must be 0400 or 0600", "[session][mode]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    for (const char* mode : {"\"0644\"", "\"0777\"", "\"rw\"", "384"}) {
        INFO(mode);
        RunOptions o = with_config(v, std::string(R"({"version": 1, "secrets": {"a": {"path": "~/a", "mode": )") + mode + "}}}");
        auto r = run(gp(v.vault, {"run", "--", "true"}), o);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, "secrets.a.mode"));
    }
}

TEST_CASE("with mode 0600 kubectl config use-context edits the ghost's kubeconfig, and save keeps it", "[session][mode]") {
    if (::access("/usr/bin/kubectl", X_OK) != 0) FAIL("kubectl is not installed (Debian package kubernetes-client; scripts/install-deps.sh installs it)");
    VaultFixture v;
    REQUIRE(v.set("kube/config", kTwoContexts).exit_code == 0);
    RunOptions o = with_config(v, R"({"version": 1, "secrets": {"kube/config": {"path": "~/.kube/config", "env": "KUBECONFIG", "mode": "0600"}}})");
    REQUIRE(run(gp(v.vault, {"run", "--linger", "5m", "--", "true"}), o).exit_code == 0);
    auto used = run(gp(v.vault, {"run", "--", "sh", "-c", "kubectl config use-context second-ctx && stat -c %a ~/.kube/config"}), o);
    INFO(used.err);
    REQUIRE(used.exit_code == 0);
    CHECK(contains(used.out, "600"));
    CHECK(run(gp(v.vault, {"run", "--", "kubectl", "config", "current-context"}), o).out == "second-ctx\n");
    auto saved = run(gp(v.vault, {"save"}), o);
    INFO(saved.err);
    REQUIRE(saved.exit_code == 0);
    REQUIRE(run(gp(v.vault, {"lock"}), o).exit_code == 0);
    CHECK(run(gp(v.vault, {"run", "--", "kubectl", "config", "current-context"}), o).out == "second-ctx\n");
    CHECK_FALSE(fs::exists(v.dir / ".kube"));
}

TEST_CASE("run --mask conceals values in stdout and stderr, also split across writes", "[session][mask]") {
    VaultFixture v;
    const std::string value = random_marker("mask-");
    const std::string first = value.substr(0, value.size() / 2), second = value.substr(value.size() / 2);
    REQUIRE(v.set("token", value + "\n").exit_code == 0);
    REQUIRE(v.set("pin", "abc").exit_code == 0);  // shorter than 4 bytes: not masked
    REQUIRE(v.gp({"run", "--linger", "5m", "--", "true"}).exit_code == 0);  // joined below: no message of ours on stderr
    std::string script = "printf %s " + first + "; sleep 0.2; printf '%s\\n' " + second + "; "
                         "printf %s " + first + " >&2; sleep 0.2; printf '%s|' " + second + " >&2; "
                         "cat \"$GHOSTPOD_DIR/token\" >&2; printf 'pin=%s\\n' \"$(cat \"$GHOSTPOD_DIR/pin\")\"";
    auto masked = v.gp({"run", "--mask", "--", "sh", "-c", script});
    INFO(masked.err);
    REQUIRE(masked.exit_code == 0);
    CHECK(masked.out == kConcealed + "\npin=abc\n");
    CHECK(masked.err == kConcealed + "|" + kConcealed + "\n");
    CHECK_FALSE(contains(masked.out + masked.err, first + second));
    // Without --mask the output is the command's own.
    auto plain = v.gp({"run", "--", "sh", "-c", script});
    CHECK(plain.out == value + "\npin=abc\n");
    // The exit code passes through as ever.
    CHECK(v.gp({"run", "--mask", "--", "sh", "-c", "exit 3"}).exit_code == 3);
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("run --mask from inside the ghost, and for a profile there, conceals what the command's view holds", "[session][mask][profile]") {
    ProfileVault p("loose");
    std::string gp_inside = "GP=" + ghostpod_binary() + "; export ASAN_OPTIONS=detect_leaks=0; ";
    auto r = run(gp(p.v.vault, {"run", "--", "sh", "-c",
                                gp_inside + "\"$GP\" run --mask -- cat \"$GHOSTPOD_DIR/loose\"; echo; "
                                            "\"$GP\" run --mask --profile terraform -- sh -c 'cat ~/.aws/credentials; printf \"|%s\" " +
                                    p.other + "'"}),
                 p.options);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // The profile's command cannot see "loose": its value is not one it could print from there.
    CHECK(r.out == kConcealed + "\n" + kConcealed + "|" + p.other);
}

TEST_CASE("run --mask on a terminal conceals values in the pty's output, split across writes too", "[session][mask][tty]") {
    VaultFixture v;
    const std::string value = random_marker("ttymask-");
    REQUIRE(v.set("token", value).exit_code == 0);
    REQUIRE(v.gp({"run", "--linger", "5m", "--", "true"}).exit_code == 0);
    Tmux t;
    start_shell(t, v);
    // The halves go in variables: the typed line never shows the value whole.
    t.keys("a=" + value.substr(0, 6) + "; b=" + value.substr(6) +
           "; gp run --mask -- sh -c \"printf %s $a; sleep 0.2; printf '%s\\n' $b; test -t 1 && echo on-a-tty\"; echo done-$((1+1))");
    REQUIRE(t.shows("done-2"));
    std::string screen = t.screen();
    INFO(screen);
    CHECK(contains(screen, kConcealed + "\n"));
    CHECK(contains(screen, "on-a-tty"));
    CHECK_FALSE(contains(screen, value));
    t.keys("gp run -- sh -c 'cat \"$GHOSTPOD_DIR/token\"'; echo; echo plain-$((2+1))");
    REQUIRE(t.shows("plain-3"));
    CHECK(contains(t.screen(), value));
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}
