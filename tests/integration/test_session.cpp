// The ghost with real namespaces and real processes: secrets reachable inside only, hardened
// commands, and nothing left once the session ends by lock, TTL, last command or kill -9.
// Runs as whoever runs the suite; scripts/test.sh runs it as root and as an unprivileged user.
#include <catch2/catch.hpp>
#include <dirent.h>
#include <signal.h>
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/leak_scan.hpp"
#include "tests/support/session.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kKubeconfig = R"(apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://127.0.0.1:6443"}
  name: ghost-cluster
contexts:
- context: {cluster: ghost-cluster, user: ghost-user}
  name: ghost-ctx
current-context: ghost-ctx
users:
- name: ghost-user
  user: {token: "ghost-token-value"}
)";

}  // namespace

TEST_CASE("a mapped secret is readable inside run at its path and variable", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("kube/config", kKubeconfig).exit_code == 0);
    auto r = v.gp({"run", "--", "sh", "-c", "cat ~/.kube/config && printf '%s' \"$KUBECONFIG\""});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == kKubeconfig + v.dir.path() + "/.kube/config");
    CHECK_FALSE(fs::exists(v.dir / ".kube"));
}

TEST_CASE("a secret without a mapping appears as $GHOSTPOD_DIR/<name> with mode 0400", "[session]") {
    VaultFixture v;
    std::string value = random_marker("plain-");
    REQUIRE(v.set("app/db-password", value).exit_code == 0);
    auto r = v.gp({"run", "--", "sh", "-c", "cat \"$GHOSTPOD_DIR/app/db-password\"; stat -c ' %a' \"$GHOSTPOD_DIR/app/db-password\""});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == value + " 400\n");
}

TEST_CASE("exit codes pass through, signals as 128+N", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    CHECK(v.gp({"run", "--", "sh", "-c", "exit 42"}).exit_code == 42);
    CHECK(v.gp({"run", "--", "sh", "-c", "kill -TERM $$"}).exit_code == 128 + SIGTERM);
    auto missing = v.gp({"run", "--", "no-such-command-ghostpod"});
    CHECK(missing.exit_code == 127);
    CHECK(missing.err.find("no-such-command-ghostpod") != std::string::npos);
}

TEST_CASE("outside a running session the secret is unreachable by any path", "[session]") {
    VaultFixture v;
    std::string value = random_marker("outside-");
    REQUIRE(v.set("kube/config", value).exit_code == 0);
    REQUIRE(v.set("loose", value).exit_code == 0);
    std::string marker = unique_sleep();
    auto session = start_lingering_session(v, marker);
    std::string ghost_dir = session["ghost_dir"];
    CHECK(fs::is_empty(ghost_dir));
    CHECK_FALSE(fs::exists(v.dir / ".kube"));
    auto hits = files_containing("/tmp", {value}, {});
    for (const auto& h : hits) UNSCOPED_INFO("found in " << h);
    CHECK(hits.empty());
    // Through /proc: ghost init and the holder are not dumpable, so their root, memory and
    // environment are closed to other processes of the same uid. Root passes every such check
    // (the threat model says so); this part is asserted by the unprivileged run of the suite.
    if (::geteuid() == 0) {
        GP_SKIP_PART("running as root: the same-uid /proc checks run in the unprivileged pass of scripts/test.sh");
    } else {
        for (long pid : {session["ghost_pid"].get<long>(), session["holder_pid"].get<long>()}) {
            for (const char* what : {"mem", "environ"}) {
                std::string path = "/proc/" + std::to_string(pid) + "/" + what;
                std::ifstream in(path, std::ios::binary);
                INFO(path);
                CHECK_FALSE((in && in.peek() != std::char_traits<char>::eof()));
            }
            std::error_code ec;
            auto through_root = fs::path("/proc") / std::to_string(pid) / "root" / ghost_dir.substr(1) / "loose";
            INFO(through_root);
            CHECK_FALSE(fs::exists(through_root, ec));
        }
    }
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("lock ends every process in the ghost within a second and leaves nothing behind", "[session]") {
    VaultFixture v;
    std::string value = random_marker("lock-");
    REQUIRE(v.set("kube/config", value).exit_code == 0);
    std::string marker = unique_sleep();
    auto session = start_lingering_session(v, marker);
    auto lock = v.gp({"lock"});
    CHECK(lock.exit_code == 0);
    CHECK(gone_within({session["holder_pid"], session["ghost_pid"]}, marker, 1000ms));
    CHECK_FALSE(fs::exists(session["ghost_dir"].get<std::string>()));
    CHECK(v.gp({"lock"}).exit_code == 5);
    CHECK(v.gp({"enter"}).exit_code == 5);
    for (const char* root : {"/tmp", "/var/tmp", "/dev/shm"}) CHECK(files_containing(root, {value}).empty());
    CHECK(files_containing(v.dir.path(), {value}, {v.vault, v.vault + ".bak"}).empty());
}

TEST_CASE("kill -9 or a crash of the holder takes every ghost process with it within a second", "[session]") {
    int sig = GENERATE(SIGKILL, SIGSEGV, SIGABRT);
    INFO("holder ended by signal " << sig);
    VaultFixture v;
    std::string value = random_marker("killed-");
    REQUIRE(v.set("kube/config", value).exit_code == 0);
    std::string marker = unique_sleep();
    auto session = start_lingering_session(v, marker);
    REQUIRE(::kill(session["holder_pid"].get<pid_t>(), sig) == 0);
    CHECK(gone_within({session["holder_pid"], session["ghost_pid"]}, marker, 1000ms));
    for (const char* root : {"/tmp", "/var/tmp", "/dev/shm"}) CHECK(files_containing(root, {value}).empty());
    CHECK(files_containing(v.dir.path(), {value}, {v.vault, v.vault + ".bak"}).empty());
    // The next session starts cleanly over what the killed one left (a stale socket).
    CHECK(v.gp({"run", "--", "true"}).exit_code == 0);
}

TEST_CASE("the session ends by itself at its TTL", "[session]") {
    VaultFixture v;
    std::string value = random_marker("ttl-");
    REQUIRE(v.set("kube/config", value).exit_code == 0);
    std::string marker = unique_sleep();
    auto session = start_lingering_session(v, marker, "2s");
    std::this_thread::sleep_for(1500ms);
    CHECK(alive(session["ghost_pid"]));
    CHECK(gone_within({session["holder_pid"], session["ghost_pid"]}, marker, 2000ms));
    for (const char* root : {"/tmp", "/var/tmp", "/dev/shm"}) CHECK(files_containing(root, {value}).empty());
    CHECK(files_containing(v.dir.path(), {value}, {v.vault, v.vault + ".bak"}).empty());
}

TEST_CASE("a one-shot run ends its session when the command ends", "[session]") {
    VaultFixture v;
    std::string value = random_marker("oneshot-");
    REQUIRE(v.set("kube/config", value).exit_code == 0);
    std::string marker = unique_sleep();
    auto r = v.gp({"run", "--", "sh", "-c", "sleep " + marker + " </dev/null >/dev/null 2>&1 & echo started"});
    CHECK(r.out == "started\n");
    CHECK(gone_within({}, marker, 1000ms));
    CHECK(v.gp({"lock"}).exit_code == 5);
    for (const char* root : {"/tmp", "/var/tmp", "/dev/shm"}) CHECK(files_containing(root, {value}).empty());
    CHECK(files_containing(v.dir.path(), {value}, {v.vault, v.vault + ".bak"}).empty());
}

TEST_CASE("the last attached shell leaving ends the session after its linger", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    RunOptions o = v.options("echo inside-shell; exit 3\n");
    o.env["SHELL"] = "/bin/sh";
    auto r = v.gp_with({"shell", "--linger", "1s"}, o);
    CHECK(r.exit_code == 3);
    CHECK(r.out == "inside-shell\n");
    CHECK(status_of(v)["session"].is_object());
    std::this_thread::sleep_for(2000ms);
    CHECK(status_of(v)["session"].is_null());
}

TEST_CASE("two enter shells see the same ghost", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    std::string marker = unique_sleep();
    start_lingering_session(v, marker);
    RunOptions first = v.options("echo shared > \"$GHOSTPOD_DIR/note\"\n");
    first.env["SHELL"] = "/bin/sh";
    REQUIRE(v.gp_with({"enter"}, first).exit_code == 0);
    RunOptions second = v.options("cat \"$GHOSTPOD_DIR/note\"\n");
    second.env["SHELL"] = "/bin/sh";
    auto r = v.gp_with({"enter"}, second);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "shared\n");
    REQUIRE(v.gp({"lock", "--discard"}).exit_code == 0);  // the note is unsaved: a plain lock refuses
}

TEST_CASE("commands in the ghost cannot ptrace, inject terminal input, nest user namespaces or make a userfaultfd", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    const char* probe = R"PY(
import ctypes, fcntl, os, termios
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(0, 0, 0, 0)
print("ptrace", r, ctypes.get_errno())
for name, req in (("TIOCSTI", termios.TIOCSTI), ("TIOCLINUX", 0x541C)):
    try:
        fcntl.ioctl(0, req, b"x")
        print(name, "allowed")
    except OSError as e:
        print(name, e.errno)
print("unshare", libc.unshare(0x10000000), ctypes.get_errno())
try:  # root only: /dev/userfaultfd is 0600 root; its ioctl makes the userfaultfd the syscall rule denies
    uffd = os.open("/dev/userfaultfd", os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(uffd, 0xAA00, 0)  # USERFAULTFD_IOC_NEW
        print("USERFAULTFD_IOC_NEW allowed")
    except OSError as e:
        print("USERFAULTFD_IOC_NEW", e.errno)
except OSError as e:
    print("open /dev/userfaultfd", e.errno)
status = open("/proc/self/status").read()
print([l for l in status.splitlines() if l.startswith(("CapEff", "CapBnd", "NoNewPrivs", "Seccomp:"))])
)PY";
    auto r = v.gp({"run", "--", "python3", "-c", probe});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("ptrace -1 1\n") != std::string::npos);
    CHECK(r.out.find("TIOCSTI 1\n") != std::string::npos);
    CHECK(r.out.find("TIOCLINUX 1\n") != std::string::npos);
    CHECK(r.out.find("unshare -1 1\n") != std::string::npos);
    if (::geteuid() == 0 && r.out.find("open /dev/userfaultfd") == std::string::npos) CHECK(r.out.find("USERFAULTFD_IOC_NEW 1\n") != std::string::npos);
    else GP_SKIP_PART("/dev/userfaultfd cannot be opened here (it is root's); the root pass checks its ioctl");
    CHECK(r.out.find("'CapEff:\\t0000000000000000'") != std::string::npos);
    CHECK(r.out.find("'CapBnd:\\t0000000000000000'") != std::string::npos);
    CHECK(r.out.find("'NoNewPrivs:\\t1'") != std::string::npos);
    CHECK(r.out.find("'Seccomp:\\t2'") != std::string::npos);
}

TEST_CASE("commands see an allowlisted environment and only descriptors 0-2", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    RunOptions o = v.options();
    o.env["GHOSTPOD_TEST_SHOULD_NOT_PASS"] = "leaky";
    o.fd_data[7] = "stray descriptor\n";
    auto r = v.gp_with({"run", "--", "sh", "-c", "env; ls /proc/self/fd | tr '\\n' ' '"}, o);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("GHOSTPOD_TEST_SHOULD_NOT_PASS") == std::string::npos);
    CHECK(r.out.find("GHOSTPOD_SESSION=vault=vault;profile=*\n") != std::string::npos);
    CHECK(r.out.find("HOME=" + v.dir.path()) != std::string::npos);
    // sh's own listing descriptor (3) is the only one past 2.
    CHECK(r.out.ends_with("\n0 1 2 3 "));
}

TEST_CASE("the real age binary inside decrypts with the identity that exists only in the ghost", "[session]") {
    VaultFixture v;
    auto keygen = run({"age-keygen"});
    REQUIRE(keygen.exit_code == 0);
    auto pos = keygen.out.find("# public key: ");
    REQUIRE(pos != std::string::npos);
    std::string recipient = keygen.out.substr(pos + 14, keygen.out.find('\n', pos) - pos - 14);
    REQUIRE(v.set("sops/age/keys.txt", keygen.out).exit_code == 0);
    std::string plaintext = random_marker("sealed-");
    RunOptions enc;
    enc.stdin_data = plaintext;
    auto encrypted = run({"age", "-r", recipient, "-o", v.dir / "secret.age"}, enc);
    REQUIRE(encrypted.exit_code == 0);
    auto r = v.gp({"run", "--", "sh", "-c", "age -d -i ~/.config/sops/age/keys.txt secret.age && age -d -i \"$SOPS_AGE_KEY_FILE\" secret.age"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == plaintext + plaintext);
    CHECK_FALSE(fs::exists(v.dir / ".config/sops"));
    auto outside = run({"age", "-d", "-i", v.dir / ".config/sops/age/keys.txt", v.dir / "secret.age"});
    CHECK(outside.exit_code != 0);
}

TEST_CASE("kubectl inside reads the ghost's kubeconfig, outside it keeps the user's own", "[session]") {
    if (::access("/usr/bin/kubectl", X_OK) != 0) FAIL("kubectl is not installed (Debian package kubernetes-client; scripts/install-deps.sh installs it)");
    VaultFixture v;
    REQUIRE(v.set("kube/config", kKubeconfig).exit_code == 0);
    std::string own = "apiVersion: v1\nkind: Config\ncurrent-context: own-ctx\ncontexts:\n- context: {cluster: c}\n  name: own-ctx\n";
    fs::create_directories(v.dir / ".kube");
    write_text(v.dir / ".kube/config", own);
    RunOptions o = v.options();
    auto outside_before = run({"kubectl", "config", "current-context"}, o);
    CHECK(outside_before.out == "own-ctx\n");
    auto inside = v.gp({"run", "--", "kubectl", "config", "current-context"});
    INFO(inside.err);
    CHECK(inside.exit_code == 0);
    CHECK(inside.out == "ghost-ctx\n");
    CHECK(read_text(v.dir / ".kube/config") == own);
    // With no kubeconfig of the user's own, outside sees none at all.
    fs::remove_all(v.dir / ".kube");
    CHECK(v.gp({"run", "--", "kubectl", "config", "current-context"}).out == "ghost-ctx\n");
    CHECK(run({"kubectl", "config", "current-context"}, o).exit_code != 0);
    CHECK_FALSE(fs::exists(v.dir / ".kube"));
}

TEST_CASE("run joins a running session without asking for the passphrase", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("a", "joined").exit_code == 0);
    std::string marker = unique_sleep();
    start_lingering_session(v, marker);
    RunOptions o = v.options();
    o.fd_data.clear();  // no passphrase available at all
    auto r2 = run({ghostpod_binary(), "--vault", v.vault, "run", "--", "sh", "-c", "cat \"$GHOSTPOD_DIR/a\""}, o);
    CHECK(r2.exit_code == 0);
    CHECK(r2.out == "joined");
    CHECK(status_of(v)["session"]["attached"] == 0);
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("a profile sees only its own secrets, by no path, variable or process", "[session][profile]") {
    ProfileVault p("loose");
    const VaultFixture& v = p.v;
    const RunOptions& o = p.options;
    const std::string &aws = p.aws, &kube = p.kube, &loose = p.other;
    // A full-view process runs alongside, as another tool in the session would.
    std::string marker = unique_sleep();
    REQUIRE(v.gp_with({"run", "--linger", "10m", "--", "sh", "-c", "sleep " + marker + " </dev/null >/dev/null 2>&1 &"}, o).exit_code == 0);
    const char* probe =
        "cat ~/.aws/credentials; echo; printf '%s|' \"$AWS_SHARED_CREDENTIALS_FILE\" \"$KUBECONFIG\"; echo;"
        "cat ~/.kube/config \"$GHOSTPOD_DIR/loose\" \"$GHOSTPOD_DIR/kube/config\" 2>/dev/null;"
        "grep -rsh -e kube- -e other- /proc/[0-9]*/root/\"$GHOSTPOD_DIR\" /proc/[0-9]*/environ 2>/dev/null;"
        "echo pids: $(ls /proc | grep -c '^[0-9]')";
    auto r = v.gp_with({"run", "--profile", "terraform", "--", "sh", "-c", probe}, o);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind(aws + "\n" + v.dir.path() + "/.aws/credentials||\n", 0) == 0);
    CHECK_FALSE(contains(r.out, kube));
    CHECK_FALSE(contains(r.out, loose));
    CHECK(r.out.find("pids: ") != std::string::npos);
    CHECK(std::stoi(r.out.substr(r.out.find("pids: ") + 6)) <= 5);
    // The full view, for comparison, does see them.
    auto full = v.gp_with({"run", "--", "sh", "-c", "cat \"$GHOSTPOD_DIR/loose\""}, o);
    CHECK(full.out == loose);
    auto unknown = v.gp_with({"run", "--profile", "nope", "--", "true"}, o);
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("known profiles: terraform") != std::string::npos);
    REQUIRE(v.gp_with({"lock"}, o).exit_code == 0);
}

TEST_CASE("two commands starting at once share one session", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    RunResult first, second;
    std::vector<std::string> args = {"run", "--linger", "1m", "--", "sh", "-c", "sleep 0.3; readlink /proc/self/ns/pid"};
    std::thread a([&] { first = v.gp(args); });
    std::thread b([&] { second = v.gp(args); });
    a.join();
    b.join();
    INFO(first.err << second.err);
    CHECK(first.exit_code == 0);
    CHECK(second.exit_code == 0);
    CHECK(first.out.rfind("pid:[", 0) == 0);
    CHECK(first.out == second.out);
    REQUIRE(v.gp({"lock"}).exit_code == 0);
    CHECK(v.gp({"lock"}).exit_code == 5);
}

TEST_CASE("commands run in the ghost's own IPC and pid namespaces, not the host's", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    auto r = v.gp({"run", "--", "sh", "-c", "readlink /proc/self/ns/ipc /proc/self/ns/pid /proc/self/ns/mnt"});
    REQUIRE(r.exit_code == 0);
    std::string host = fs::read_symlink("/proc/self/ns/ipc").string() + "\n" + fs::read_symlink("/proc/self/ns/pid").string() +
                       "\n" + fs::read_symlink("/proc/self/ns/mnt").string() + "\n";
    auto inside = r.out;
    INFO("inside:\n" << inside << "host:\n" << host);
    std::istringstream in(inside), out(host);
    for (std::string a, b; std::getline(in, a) && std::getline(out, b);) CHECK(a != b);
}

TEST_CASE("commands starting while a session is being locked join it, start a new one, or say it ended", "[session]") {
    // Regression: a command whose connection waited in the backlog of an ending holder failed
    // with "receive message: Connection reset by peer" (exit 1) instead of starting a new
    // session, and a second lock failed the same way instead of finding no session (exit 5).
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    for (int round = 0; round < 6; ++round) {
        REQUIRE(v.gp({"run", "--linger", "1m", "--", "true"}).exit_code == 0);
        std::vector<RunResult> results(5);
        std::vector<std::thread> threads;
        RunResult locked, locked_again;
        threads.emplace_back([&] { locked = v.gp({"lock"}); });
        threads.emplace_back([&] { locked_again = v.gp({"lock"}); });
        for (auto& r : results) threads.emplace_back([&v, &r] { r = v.gp({"run", "--", "cat", "/dev/null"}); });
        for (auto& t : threads) t.join();
        // One lock ends the session; the other finds it ending or gone (never a reset connection).
        INFO("locks: " << locked.err << locked_again.err);
        CHECK((locked.exit_code == 0 || locked_again.exit_code == 0));
        CHECK((locked.exit_code == 0 || locked.exit_code == 5));
        CHECK((locked_again.exit_code == 0 || locked_again.exit_code == 5));
        for (const auto& r : results) {
            INFO("round " << round << ": exit " << r.exit_code << ", " << r.err);
            // 0: joined the old session or started a new one; 137: killed by a lock while it
            // ran; 5: a lock ended the session it joined or had just started before it ran.
            CHECK((r.exit_code == 0 || r.exit_code == 137 || r.exit_code == 5));
            CHECK_FALSE(contains(r.err, "ECONNRESET"));
        }
        // Sessions the late commands started end with them; at most one is left to lock.
        auto last = v.gp({"lock"});
        CHECK((last.exit_code == 0 || last.exit_code == 5));
    }
}

namespace {

// A pid 1 that never reaps what is handed to it (some containers' init): it waits for its own
// child only, then lingers so the zombies it was given stay.
const char* kNonReapingInit = R"PY(
import subprocess, sys, time
status = subprocess.call(sys.argv[1:], close_fds=False)
print("script exited", status, flush=True)
)PY";

std::string shell_quote(const std::string& text) {
    std::string q = "'";
    for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

}  // namespace

TEST_CASE("lock returns where pid 1 never reaps a command left behind by a killed client", "[session][container]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    std::string marker = unique_sleep();
    std::string gp = shell_quote(ghostpod_binary()) + " --vault " + shell_quote(v.vault);
    // The client of `sleep MARKER` is killed: its command goes to the pid 1 below, which leaves
    // it a zombie once lock kills it, and ghost init then never finishes exiting.
    std::string script = gp + " --passphrase-fd 3 run --linger 10m -- true || exit 10\n" +
                         gp + " run -- sleep " + marker + " & client=$!\n"
                         "for i in $(seq 200); do pgrep -f '^sleep " + marker + "$' >/dev/null && break; sleep 0.05; done\n"
                         "kill -9 $client; wait $client\n"
                         "timeout 20 " + gp + " lock; echo \"lock $?\"\n"
                         "ps -eo stat=,args= | grep -v grep | grep -c '^[^Z].*sleep " + marker + "' ; true\n";
    std::vector<std::string> argv = {"unshare", "--fork", "--pid", "--mount-proc"};
    // Unprivileged, a user namespace keeping this uid gives unshare its pid namespace.
    if (::geteuid() != 0) argv = {"unshare", "--user", "--map-current-user", "--fork", "--pid", "--mount-proc"};
    argv.insert(argv.end(), {"python3", "-c", kNonReapingInit, "bash", "-c", script});
    auto start = std::chrono::steady_clock::now();
    auto r = run(argv, v.options());
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(r.out << r.err);
    CHECK(r.out.find("lock 0\n") != std::string::npos);
    CHECK(r.out.find("\n0\n") != std::string::npos);  // the command is no longer running
    CHECK(seconds < 15);
}

TEST_CASE("a container's masked /proc fails the session with a hint naming the masked entries and the way out", "[session][container]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    // bubblewrap with /proc/version overmounted, as Docker masks /proc/kcore, /proc/keys, ...:
    // the kernel then refuses the ghost's user namespace a /proc of its own. As root, bwrap's
    // --uid makes ghostpod a user there (the rootless ghost, where the rule applies).
    std::vector<std::string> argv = {"bwrap", "--unshare-user", "--unshare-pid", "--dev-bind", "/", "/", "--proc", "/proc"};
    if (::geteuid() == 0) argv.insert(argv.begin() + 2, {"--uid", "1234", "--gid", "1234"});
    RunOptions o = v.options();
    fs::create_directory(v.dir / "run");
    fs::permissions(v.dir / "run", fs::perms::owner_all);
    o.env["XDG_RUNTIME_DIR"] = v.dir / "run";  // of the user bwrap makes (/tmp/ghostpod-1234 may be another's)
    auto unmasked = argv;
    argv.insert(argv.end(), {"--ro-bind", "/dev/null", "/proc/version"});
    for (auto* a : {&argv, &unmasked}) {
        a->push_back("--");
        for (const auto& arg : ghostpod::test::gp(v.vault, {"run", "--", "echo", "inside"})) a->push_back(arg);
    }
    auto masked = run(argv, o);
    INFO(masked.err);
    CHECK(masked.exit_code == 1);
    CHECK(masked.err.find("mount proc on /proc: Operation not permitted (EPERM): this /proc has entries mounted over (/proc/version)") !=
          std::string::npos);
    CHECK(masked.err.find("hint: give the container an unmasked /proc (docker run --security-opt systempaths=unconfined") != std::string::npos);
    // The same without the overmount works: the hint names the cause, not bwrap.
    auto plain = run(unmasked, o);
    INFO(plain.err);
    CHECK(plain.exit_code == 0);
    CHECK(plain.out == "inside\n");
}

TEST_CASE("a session's socket and ghost live under $XDG_RUNTIME_DIR/ghostpod when it is set", "[session]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    std::string runtime = v.dir / "xdg";
    fs::create_directory(runtime);
    fs::permissions(runtime, fs::perms::owner_all, fs::perm_options::replace);
    RunOptions o = v.options();
    o.env["XDG_RUNTIME_DIR"] = runtime;
    auto started = v.gp_with({"run", "--linger", "5m", "--", "true"}, o);
    INFO(started.err);
    REQUIRE(started.exit_code == 0);
    auto status = v.gp_with({"status", "--json"}, o);
    REQUIRE(status.exit_code == 0);
    auto session = nlohmann::json::parse(status.out)["session"];
    REQUIRE(session.is_object());
    CHECK(session["ghost_dir"].get<std::string>().rfind(runtime + "/ghostpod/", 0) == 0);
    // Without the variable the session is looked for in the fallback directory, where it is not.
    CHECK(status_of(v)["session"].is_null());
    CHECK(v.gp_with({"lock"}, o).exit_code == 0);
}
