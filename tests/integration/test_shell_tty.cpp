// Commands in the ghost on a real terminal (tmux): they run on a pty of their own that the
// client relays. Job control works inside (an enter shell) and outside (Ctrl-Z stops `run`
// with its command), Ctrl-C reaches the command once, resizes reach it, the user's terminal
// gets its modes back, and pipes and files still pass through untouched. Off a terminal the
// standard streams are the command's own, byte for byte.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "tests/support/session.hpp"
#include "tests/support/tmux.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
using namespace std::chrono_literals;

namespace {

// Waits up to 5 s for a file the command writes; its content, or "" when it never came.
std::string file_soon(const std::string& path) {
    for (int i = 0; i < 100; ++i) {
        std::ifstream in(path, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (in && !text.empty()) return text;
        std::this_thread::sleep_for(50ms);
    }
    return "";
}

std::string random_bytes(std::size_t size) {
    std::mt19937 random(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::string bytes(size, '\0');
    for (auto& b : bytes) b = static_cast<char>(random() & 0xff);
    return bytes + "\r\n\0\x04\x03 end";
}

// Counts the SIGINTs delivered to it for 2 s after saying "armed" (one byte each on the
// wakeup pipe: Python's handler alone would fold deliveries that come close together).
const char* kSigintCounter =
    "import os, signal, sys, time\n"
    "r, w = os.pipe()\n"
    "os.set_blocking(r, False); os.set_blocking(w, False)\n"
    "signal.set_wakeup_fd(w)\n"
    "signal.signal(signal.SIGINT, lambda s, f: None)\n"
    "print('armed-' + sys.argv[1], flush=True)\n"
    "end = time.time() + 2\n"
    "while time.time() < end: time.sleep(0.05)\n"
    "print('sigint-count-%s=%d.' % (sys.argv[1], len(os.read(r, 100))), flush=True)\n";

// Appends the pty's size to $1 at the start and on every SIGWINCH.
// Ctrl-C ends it through a trap: bash that gets SIGINT while reaping a `sleep` that had just
// exited normally takes the child to have handled it and loops on (the likely cause of a Ctrl-C
// a CI run lost).
const char* kWinchLogger =
    "trap 'exit 130' INT\n"
    "trap 'stty size >>\"$1\"' WINCH\n"
    "stty size >\"$1\"\n"
    "while :; do sleep 0.05; done\n";

}  // namespace

TEST_CASE("an enter shell on a terminal has job control and survives Ctrl-C", "[session][tty]") {
    if (run({"tmux", "-V"}).exit_code != 0) FAIL("tmux is not installed (scripts/install-deps.sh installs it)");
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    REQUIRE(v.gp({"run", "--linger", "5m", "--", "true"}).exit_code == 0);
    Tmux t;
    t.options = v.options();
    t.options.fd_data.clear();
    std::string command = "env -i PATH=/usr/bin:/bin TERM=xterm HOME='" + v.dir.path() + "' SHELL=/bin/bash " +
                          ghostpod_binary() + " --vault '" + v.vault + "' enter; echo \"enter-exit=\\$?\"; sleep 30";
    REQUIRE(t.cmd({"new-session", "-d", "-s", "gp", "-x", "150", "-y", "40", "bash --norc --noprofile -c \"" + command + "\""}).exit_code == 0);
    // Markers are computed by the shell, so the typed command line never matches them.
    t.keys("echo ready-$((40+2))");
    REQUIRE(t.shows("ready-42"));
    t.keys("[[ -o monitor ]] && echo monitor-$((1+1)); sleep 300 & jobs");
    CHECK(t.shows("[1]+  Running"));
    CHECK(t.shows("monitor-2"));
    t.keys("sleep 301");
    std::this_thread::sleep_for(300ms);
    t.key("C-c");
    t.keys("echo still-here-$((${#GHOSTPOD_SESSION}-14))");  // vault=vault;profile=*: 21 characters
    CHECK(t.shows("still-here-7"));
    // The shell's terminal is a pty from the ghost's own devpts, not the user's.
    t.keys("case $(tty) in /dev/pts/*) [ -e \"$(tty)\" ] && ls /dev/pts | wc -w | sed 's/^/ptys-/';; esac");
    CHECK(t.shows("ptys-2"));  // ptmx and this shell's pty: the host's terminals are not there
    t.keys("kill %1; exit 4");
    INFO(t.screen());
    CHECK(t.shows("enter-exit=4"));
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("Ctrl-Z stops a run command together with the client, fg continues it, Ctrl-C ends it", "[session][tty]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    REQUIRE(v.gp({"run", "--linger", "5m", "--", "true"}).exit_code == 0);
    Tmux t;
    start_shell(t, v);
    std::string ticks = v.dir / "ticks", modes = v.dir / "modes";
    // The modes as the shell keeps them, and after a command that ran in raw mode and exited
    // (bash itself puts them back after a stop or a death by signal, not after an exit).
    t.keys("stty -g >'" + modes + ".before'; gp run -- true; stty -g >'" + modes + ".exit'");
    CHECK_FALSE(file_soon(modes + ".exit").empty());
    t.keys("gp run -- sh -c 'while :; do date +%s%N >\"" + ticks + "\"; sleep 0.05; done'");
    REQUIRE_FALSE(file_soon(ticks).empty());
    t.key("C-z");
    CHECK(t.shows("Stopped"));
    std::this_thread::sleep_for(300ms);
    std::string stopped_at = read_text(ticks);
    std::this_thread::sleep_for(400ms);
    CHECK(read_text(ticks) == stopped_at);  // the command is stopped, not just the client
    t.keys("stty -g >'" + modes + ".stopped'; fg");
    std::this_thread::sleep_for(500ms);
    CHECK(read_text(ticks) != stopped_at);
    t.key("C-c");
    CHECK(t.shell_in_foreground());  // the client has exited: what is typed next is the shell's
    t.keys("echo rc-$?-$((1+1)); stty -g >'" + modes + ".after'");
    CHECK(t.shows("rc-130-2"));
    std::string before = file_soon(modes + ".before");
    REQUIRE_FALSE(before.empty());
    CHECK(file_soon(modes + ".exit") == before);     // raw mode undone at the command's exit
    CHECK(file_soon(modes + ".stopped") == before);  // while stopped
    CHECK(file_soon(modes + ".after") == before);    // and after Ctrl-C
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("a window resize reaches a command on a terminal", "[session][tty]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    REQUIRE(v.gp({"run", "--linger", "5m", "--", "true"}).exit_code == 0);
    Tmux t;
    start_shell(t, v);
    std::string sizes = v.dir / "sizes", script = v.dir / "winch.sh";
    write_text(script, kWinchLogger);
    t.keys("gp run -- bash '" + script + "' '" + sizes + "'");
    CHECK(file_soon(sizes) == "40 150\n");
    REQUIRE(t.cmd({"resize-window", "-t", "gp", "-x", "90", "-y", "25"}).exit_code == 0);
    for (int i = 0; i < 100 && read_text(sizes) == "40 150\n"; ++i) std::this_thread::sleep_for(50ms);
    CHECK(read_text(sizes) == "40 150\n25 90\n");
    t.key("C-c");
    CHECK(t.shell_in_foreground());
    t.keys("echo rc-$?-$((1+1))");
    CHECK(t.shows("rc-130-2"));
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("Ctrl-C reaches a command on a terminal once, with or without --profile", "[session][tty][profile]") {
    ProfileVault p("api/token");
    // Before the session: the ghost shadows HOME (to place ~/.aws, ~/.kube) as it was then.
    std::string script = p.v.dir / "count.py";
    write_text(script, kSigintCounter);
    REQUIRE(p.v.gp_with({"run", "--linger", "5m", "--", "true"}, p.options).exit_code == 0);
    Tmux t;
    start_shell(t, p.v, "GHOSTPOD_CONFIG='" + p.options.env["GHOSTPOD_CONFIG"] + "'");
    for (std::string profile : {"", "--profile terraform "}) {
        INFO("run " << profile);
        std::string tag = profile.empty() ? "plain" : "profile";  // each run's own lines
        t.keys("clear; gp run " + profile + "-- python3 '" + script + "' " + tag);
        bool armed = t.shows("armed-" + tag + "\n");
        INFO(t.screen());
        REQUIRE(armed);
        t.key("C-c");
        REQUIRE(t.shows("sigint-count-" + tag + "="));
        INFO(t.screen());
        CHECK(t.screen().find("sigint-count-" + tag + "=1.") != std::string::npos);  // not 2 or 3
        CHECK(t.shell_in_foreground());  // the next run is typed to the shell, not to this one
    }
    REQUIRE(p.v.gp_with({"lock"}, p.options).exit_code == 0);
}

TEST_CASE("a command's children holding the pty do not keep run waiting, the pty hangs up on them", "[session][tty]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    REQUIRE(v.gp({"run", "--linger", "5m", "--", "true"}).exit_code == 0);
    Tmux t;
    start_shell(t, v);
    std::string late = v.dir / "late";
    // HUP ignored before the fork, as by a child meant to outlive its command (no race with the hangup).
    t.keys("gp run -- sh -c 'trap \"\" HUP; (sleep 1; echo late-$((3+4)) || echo write-failed-$? >\"" + late +
           "\") & echo started'; echo rc-$?-$((1+1))");
    CHECK(t.shows("rc-0-2"));
    CHECK_FALSE(std::ifstream(late));  // run came back before its child wrote
    CHECK(file_soon(late) == "write-failed-1\n");  // EIO on the hung-up pty
    CHECK(t.screen().find("late-7") == std::string::npos);
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("on a terminal, a redirected stdin and stdout pass through byte for byte", "[session][tty]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    REQUIRE(v.gp({"run", "--linger", "5m", "--", "true"}).exit_code == 0);
    Tmux t;
    start_shell(t, v);
    std::string in = v.dir / "in", out = v.dir / "out", piped = v.dir / "piped";
    std::string bytes = random_bytes(256 * 1024);
    write_text(in, bytes);
    t.keys("gp run -- sh -c 'cat; exit 3' <'" + in + "' >'" + out + "'; echo rc-$?-$((1+1))");
    CHECK(t.shows("rc-3-2"));
    CHECK((read_text(out) == bytes));  // (not printed: 256 KiB)
    t.keys("cat '" + in + "' | gp run -- sh -c 'cat; echo to-the-terminal-$((2+2)) >&2' | cat >'" + piped + "'; echo rc-${PIPESTATUS[1]}-$((2+1))");
    CHECK(t.shows("rc-0-3"));
    CHECK(t.shows("to-the-terminal-4"));  // stderr, the terminal, came through the pty
    CHECK((read_text(piped) == bytes));
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("off a terminal the standard streams are the command's own and it has no terminal", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    std::string bytes = random_bytes(200 * 1024);
    auto r = v.gp({"run", "--", "sh", "-c", "cat; printf err >&2; exit 5"}, bytes);
    CHECK(r.exit_code == 5);
    CHECK((r.out == bytes));
    CHECK(r.err == "err");
    auto tty = v.gp({"run", "--", "sh", "-c", "tty; exec 3</dev/tty && echo has-a-terminal"});
    CHECK(tty.out == "not a tty\n");
    CHECK(tty.err.find("No such device or address") != std::string::npos);
}
