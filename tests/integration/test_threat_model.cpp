// One regression test per item of README's "What ghostpod protects" list, named after the item
// ("Protects: <name>"), each checking the concrete claims of its bullet against the real binary
// in real processes. A last case compares README's list with these tests' names, so the two
// cannot drift apart. Each is a quick check per claim; the exhaustive versions live in
// test_tamper, test_leaks, test_crash_safety and test_session.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/infisical_server.hpp"
#include "tests/support/leak_scan.hpp"
#include "tests/support/proc_probe.hpp"
#include "tests/support/session.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/tmux.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kScratchRoots = {"/tmp", "/var/tmp", "/dev/shm"};

bool am_root() { return ::geteuid() == 0; }

// Files under the scratch roots and HOME (the vault and its backup excepted) holding a needle.
std::vector<std::string> plaintext_outside_vault(const VaultFixture& v, const std::vector<std::string>& needles) {
    std::vector<std::string> hits;
    for (const auto& root : kScratchRoots)
        for (auto& h : files_containing(root, needles, {v.vault, v.vault + ".bak"})) hits.push_back(h);
    for (auto& h : files_containing(v.dir.path(), needles, {v.vault, v.vault + ".bak"})) hits.push_back(h);
    for (const auto& h : hits) UNSCOPED_INFO("plaintext found in " << h);
    return hits;
}

// TIOCSTI, TIOCLINUX, TIOCSCTTY (take a terminal as the controlling one) and TIOCSETD (change
// its line discipline) on stdin: "NAME allowed" or "NAME errno".
const char* kInjectProbe = R"PY(
import fcntl, termios
for name, req in (("TIOCSTI", termios.TIOCSTI), ("TIOCLINUX", 0x541C), ("TIOCSCTTY", termios.TIOCSCTTY), ("TIOCSETD", termios.TIOCSETD)):
    try:
        fcntl.ioctl(0, req, b"x")
        print(name, "allowed")
    except OSError as e:
        print(name, e.errno)
)PY";

// A process left behind in the ghost ($1: a directory): once $1/go exists it tries to get at
// the user's terminal every way a same-uid process can (its inherited descriptors, /dev/tty as
// a controlling terminal with setpgid + tcsetpgrp into the foreground, each /dev/pts/N by
// path), writes what it reached to $1/report, and for 3 s appends whatever it reads from any
// of them to $1/stolen; then $1/done.
const char* kTerminalThief = R"PY(
import glob, os, select, signal, sys, time
for s in (signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU): signal.signal(s, signal.SIG_IGN)
d = sys.argv[1]
while not os.path.exists(d + "/go"): time.sleep(0.05)
report, fds = [], [0, 1, 2]
try:
    tty = os.open("/dev/tty", os.O_RDWR); fds.append(tty); report.append("opened /dev/tty")
    os.setpgid(0, 0); os.tcsetpgrp(tty, os.getpgrp()); report.append("took the foreground")
except OSError as e:
    report.append("/dev/tty: errno %d" % e.errno)
for path in glob.glob("/dev/pts/[0-9]*"):
    try:
        fds.append(os.open(path, os.O_RDWR | os.O_NOCTTY)); report.append("opened " + path)
    except OSError as e:
        report.append("%s: errno %d" % (path, e.errno))
open(d + "/report", "w").write("\n".join(report) + "\n")
stolen = open(d + "/stolen", "wb")
end = time.time() + 3
while fds and time.time() < end:
    for fd in select.select(fds, [], [], 0.1)[0]:
        try:
            data = os.read(fd, 1024)
        except OSError:
            data = b""
        if data: stolen.write(data); stolen.flush()
        else: fds.remove(fd)
open(d + "/done", "w").close()
)PY";

std::string shell_quote(const std::string& text) {
    std::string q = "'";
    for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// Speaks the session protocol (sandbox/wire.hpp framing) on the control socket at argv[1], as a
// process that wants more than its view would: for each step of argv[2] (comma-separated) one
// line, "STEP refused" when the holder refused it, else what it answered. attach prints the
// place, the profile and every secret, path and variable name it was told; register and spawn
// go on the attach connection, with the descriptors they take.
const char* kSocketProbe = R"PY(
import os, socket, struct, sys
path, steps = sys.argv[1], sys.argv[2].split(",")
def frame(kind, payload=b""): return struct.pack("<BHI", 1, kind, len(payload)) + payload
def s(v): v = v.encode() if isinstance(v, str) else v; return struct.pack("<I", len(v)) + v
def connect():
    c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); c.connect(path); return c
def ask(c, kind, payload=b"", fds=()):
    try:
        socket.send_fds(c, [frame(kind, payload)], list(fds)) if fds else c.send(frame(kind, payload))
        data = c.recv(1 << 20)
    except OSError:
        return "closed", b""
    if not data: return "closed", b""
    return struct.unpack_from("<BHI", data)[1], data[7:]
class R:
    def __init__(self, b): self.b, self.o = b, 0
    def u8(self): self.o += 1; return self.b[self.o - 1]
    def u32(self): self.o += 4; return struct.unpack_from("<I", self.b, self.o - 4)[0]
    def s(self): n = self.u32(); self.o += n; return self.b[self.o - n:self.o].decode(errors="replace")
def said(name, kind, payload):
    if kind == 0xFFFF:
        r = R(payload); r.u8(); r.u32(); r.s(); why = r.s()
        print(name, "refused" if why.startswith("refused") else "error: " + why)
    else:
        print(name, kind)
conn = None
for step in steps:
    if step in ("lock", "save", "certs", "pull", "status"):
        kind, payload = {"lock": (3, b"\0\0"), "save": (4, b"\0"), "certs": (5, b""), "pull": (6, s("{}")), "status": (2, b"")}[step]
        said(step, *ask(connect(), kind, payload))
    elif step == "attach":
        conn = connect()
        kind, payload = ask(conn, 1)
        if kind != 101:
            said("attach", kind, payload)
            continue
        r = R(payload); place = r.u8(); profile = r.s(); r.s()
        names = [r.s() for _ in range(r.u32())]
        for _ in range(r.u32()): names += [r.s(), r.s()]
        for _ in range(r.u32()): names += [r.s(), r.s(), r.s()]; r.u8()
        print("attach", place, profile, " ".join(names))
    elif step == "register":
        said(step, *ask(conn, 8, s("terraform") + struct.pack("<I", 0), [os.open("/proc/self/ns/mnt", os.O_RDONLY)]))
    elif step == "spawn":
        said(step, *ask(conn, 7, s("terraform") + struct.pack("<I", 0), [os.open("/dev/null", os.O_RDWR) for _ in range(5)]))
)PY";

// The session's control socket, next to its ghost directory in the runtime directory.
std::string socket_of(const nlohmann::json& session) {
    std::string dir = session["ghost_dir"];
    return dir.substr(0, dir.size() - std::string(".ghost").size()) + ".sock";
}

}  // namespace

TEST_CASE("Protects: Secrets at rest", "[threat]") {
    SECTION("by default a passphrase guess costs Argon2id with 256 MiB") {
        TempDir d;
        VaultFixture v;  // for its options (HOME, passphrase on fd 3)
        std::string vault = d / "vault";
        REQUIRE(run(gp(vault, {"init"}), v.options()).exit_code == 0);
        auto s = nlohmann::json::parse(run(gp(vault, {"status", "--json"}), v.options()).out);
        auto slot = s["vault"]["keyslots"][0];
        CHECK(slot["type"] == "passphrase");
        CHECK(slot["kdf"] == "argon2id");
        CHECK(slot["m_cost_kib"] == 256 * 1024);
        auto start = Clock::now();
        auto wrong = run(gp(vault, {"secret", "ls"}), v.options({}, "not-the-passphrase"));
        double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        WARN("one wrong guess with the default KDF took " << seconds << " s (README: ~0.7 s)");
        CHECK(wrong.exit_code == 3);
        CHECK(seconds > 0.3);
    }
    VaultFixture v;
    std::string name = random_marker("name-"), value = random_marker("at-rest-");
    REQUIRE(v.set(name, value).exit_code == 0);
    SECTION("the file shows no name, value, passphrase or recovery key, and opens only with one of them") {
        std::string bytes = read_text(v.vault) + read_text(v.vault + ".bak");
        for (const auto& needle : {name, value, v.passphrase, v.recovery_key.substr(0, 52)}) CHECK_FALSE(contains(bytes, needle));
        auto wrong = v.gp_with({"secret", "get", name}, v.options({}, "wrong"));
        CHECK(wrong.exit_code == 3);
        CHECK_FALSE(contains(wrong.out + wrong.err, value));
        RunOptions by_recovery = v.options();
        by_recovery.fd_data = {{4, v.recovery_key}};
        auto recovered = run({ghostpod_binary(), "--vault", v.vault, "--recovery-key-fd", "4", "secret", "get", name}, by_recovery);
        CHECK(recovered.exit_code == 0);
        CHECK(recovered.out == value);
        TempDir elsewhere;  // a copy (a backup, a stolen disk) opens anywhere with the passphrase
        fs::copy_file(v.vault, elsewhere / "copy");
        CHECK(run(gp(elsewhere / "copy", {"secret", "get", name}), v.options()).out == value);
    }
    SECTION("a flipped bit in header, keyslots or payload, a truncation or an extra byte: exit 3, no value") {
        std::string bytes = read_text(v.vault);
        std::size_t payload = 96 + 104 * static_cast<unsigned char>(bytes.at(12));  // header size (ghostpod-vault(5))
        REQUIRE(payload < bytes.size());
        std::vector<std::pair<std::string, std::string>> variants;
        for (std::size_t at : {std::size_t{0}, std::size_t{9}, std::size_t{20}, std::size_t{40}, std::size_t{64 + 4},
                               std::size_t{64 + 20}, std::size_t{64 + 80}, std::size_t{168 + 20}, payload - 8, payload,
                               payload + 30, bytes.size() - 1}) {
            std::string flipped = bytes;
            flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
            variants.push_back({"flipped bit in byte " + std::to_string(at), flipped});
        }
        for (std::size_t len : {std::size_t{0}, std::size_t{63}, payload - 1, payload, bytes.size() - 17, bytes.size() - 1})
            variants.push_back({"truncated to " + std::to_string(len), bytes.substr(0, len)});
        variants.push_back({"one byte appended", bytes + std::string(1, '\0')});
        std::string path = v.dir / "variant";
        for (const auto& [what, variant] : variants) {
            write_text(path, variant);
            auto r = run(gp(path, {"secret", "get", name}), v.options());
            INFO(what << ": " << r.err);
            CHECK(r.exit_code == 3);
            CHECK_FALSE(contains(r.out + r.err, value));
        }
    }
}

TEST_CASE("Protects: Plaintext on disk, in swap, in core dumps", "[threat]") {
    VaultFixture v;
    std::string value = random_marker("plaintext-");
    REQUIRE(v.set("kube/config", value).exit_code == 0);
    SECTION("values are written only encrypted: no file outside the vault holds one, in a session or after") {
        REQUIRE(v.get("kube/config").out == value);
        std::string marker = unique_sleep();
        start_lingering_session(v, marker);
        REQUIRE(v.gp({"run", "--", "cat", v.dir / ".kube/config"}).out == value);
        CHECK(plaintext_outside_vault(v, {value, v.passphrase}).empty());
        REQUIRE(v.gp({"lock"}).exit_code == 0);
        CHECK(plaintext_outside_vault(v, {value, v.passphrase}).empty());
    }
    SECTION("in a session the values live on the RAM mount: ramfs rootless, tmpfs noswap as root") {
        auto r = v.gp({"run", "--", "sh", "-c", "grep \" $GHOSTPOD_DIR \" /proc/self/mountinfo"});
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        auto dash = r.out.find(" - ");
        REQUIRE(dash != std::string::npos);
        std::istringstream after(r.out.substr(dash + 3));
        std::string fstype, source, options;
        after >> fstype >> source >> options;
        if (am_root()) {
            CHECK(fstype == "tmpfs");
            CHECK(("," + options + ",").find(",noswap,") != std::string::npos);
        } else {
            CHECK(fstype == "ramfs");
        }
    }
    SECTION("a kill -9 during a save leaves the old or the new vault") {
        std::mt19937 rng(std::random_device{}());
        std::string current = value;
        for (int trial = 0; trial < 6; ++trial) {
            std::string next(1 << 20, static_cast<char>('a' + trial));
            {
                Spawned writer(gp(v.vault, {"secret", "set", "kube/config"}), v.options(next));
                std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 600)(rng)));
                writer.kill_now(SIGKILL);
                writer.wait();
            }
            auto got = v.get("kube/config");
            INFO("trial " << trial);
            REQUIRE(got.exit_code == 0);
            REQUIRE((got.out == current || got.out == next));
            current = got.out;
        }
    }
    SECTION("ghostpod's processes: RLIMIT_CORE 0 and not dumpable; commands in the ghost: RLIMIT_CORE 0 they cannot raise") {
        struct rlimit own {};
        REQUIRE(::getrlimit(RLIMIT_CORE, &own) == 0);
        if (own.rlim_max == 0) GP_SKIP_PART("this shell's hard core limit is already 0: the RLIMIT_CORE checks cannot fail here");
        std::string hard = own.rlim_max == RLIM_INFINITY ? "unlimited" : std::to_string(own.rlim_max);
        // The launcher starts with core dumps allowed, so a 0 below is ghostpod's doing.
        std::string marker = unique_sleep();
        std::vector<std::string> argv = {"prlimit", "--core=" + hard + ":" + hard, "--"};
        for (auto& a : gp(v.vault, {"run", "--linger", "10m", "--", "sleep", marker})) argv.push_back(a);
        Spawned launcher(argv, v.options());
        for (int i = 0; i < 250 && processes_with(marker).empty(); ++i) std::this_thread::sleep_for(20ms);
        REQUIRE(processes_with(marker).size() == 1);
        auto session = status_of(v)["session"];
        long command = processes_with(marker)[0];
        std::map<std::string, long> ghostpod_processes = {
            {"launcher", launcher.pid()}, {"holder", session["holder_pid"]}, {"ghost init", session["ghost_pid"]}};
        for (const auto& [what, pid] : ghostpod_processes) {
            INFO(what << " " << pid);
            CHECK(core_limit_of(pid) == "0 0");
            if (!am_root()) CHECK(reach(pid, "/").find("environ err") != std::string::npos);
        }
        if (am_root())
            GP_SKIP_PART("running as root: nothing shows from outside whether a root process is dumpable (ptrace access checks pass or fail on "
                 "capabilities); the unprivileged pass asserts it");
        INFO("a command in the ghost");
        CHECK(core_limit_of(command) == "0 0");
        auto raise = v.gp({"run", "--", "python3", "-c",
                           "import resource as r\nprint(r.getrlimit(r.RLIMIT_CORE))\n"
                           "try:\n r.setrlimit(r.RLIMIT_CORE, (1, 1)); print('raised')\nexcept (ValueError, OSError): print('refused')"});
        INFO(raise.err);
        CHECK(raise.out == "(0, 0)\nrefused\n");
        REQUIRE(v.gp({"lock"}).exit_code == 0);
    }
    SECTION("the holder keeps secrets in locked memory and the data key in memfd_secret where the kernel has it") {
        auto session = start_lingering_session(v, unique_sleep());
        std::ifstream holder_status("/proc/" + std::to_string(session["holder_pid"].get<long>()) + "/status");
        std::string line;
        long locked_kib = -1;
        while (std::getline(holder_status, line))
            if (line.rfind("VmLck:", 0) == 0) locked_kib = std::stol(line.substr(6));
        CHECK(locked_kib > 0);
        auto posture = status_of(v)["posture"];
        if (am_root() && posture["memfd_secret"] == true) {
            std::string maps = read_text("/proc/" + std::to_string(session["holder_pid"].get<long>()) + "/maps");
            CHECK(maps.find("secretmem") != std::string::npos);
        } else {
            GP_SKIP_PART("the holder's memfd_secret mapping is checked as root only (its /proc/PID/maps is closed to its own uid)");
        }
        REQUIRE(v.gp({"lock"}).exit_code == 0);
    }
    SECTION("status reports the memlock limit and the active swap areas") {
        auto posture = status_of(v)["posture"];
        std::ifstream swaps("/proc/swaps");
        std::string line;
        std::size_t active = 0;
        for (std::getline(swaps, line); std::getline(swaps, line);) active += !line.empty();
        CHECK(posture["swap"].size() == active);
        struct rlimit memlock {};
        REQUIRE(::getrlimit(RLIMIT_MEMLOCK, &memlock) == 0);
        CHECK((posture["memlock_limit"] == "unlimited") == (memlock.rlim_max == RLIM_INFINITY));
        CHECK_FALSE(posture["memlock_limit"].get<std::string>().empty());
    }
}

TEST_CASE("Protects: Processes outside the session reaching secrets by path", "[threat]") {
    VaultFixture v;
    std::string kube = random_marker("kube-"), loose = random_marker("loose-");
    REQUIRE(v.set("kube/config", kube).exit_code == 0);
    REQUIRE(v.set("loose", loose).exit_code == 0);
    std::string marker = unique_sleep();
    auto session = start_lingering_session(v, marker);
    std::string ghost_dir = session["ghost_dir"];
    SECTION("outside, $GHOSTPOD_DIR is an empty directory with no mount and ~/.kube/config is absent") {
        CHECK(fs::is_directory(ghost_dir));
        CHECK(fs::is_empty(ghost_dir));
        CHECK(read_text("/proc/self/mountinfo").find(" " + ghost_dir + " ") == std::string::npos);
        CHECK_FALSE(fs::exists(v.dir / ".kube"));
        REQUIRE(v.gp({"run", "--", "cat", v.dir / ".kube/config"}).out == kube);
    }
    SECTION("outside, a ~/.kube/config of the user's own stays as it was") {
        REQUIRE(v.gp({"lock"}).exit_code == 0);
        fs::create_directories(v.dir / ".kube");
        write_text(v.dir / ".kube/config", "own config\n");
        start_lingering_session(v, unique_sleep());
        CHECK(v.gp({"run", "--", "cat", v.dir / ".kube/config"}).out == kube);
        CHECK(read_text(v.dir / ".kube/config") == "own config\n");
    }
    SECTION("the holder and ghost init cannot be ptraced, nor their /proc/PID/root or /proc/PID/mem opened") {
        if (am_root()) {
            GP_SKIP_PART("running as root: root passes every ptrace access check (README: root is not protected against); the "
                 "unprivileged pass asserts this");
        } else {
            for (long pid : {session["holder_pid"].get<long>(), session["ghost_pid"].get<long>()}) {
                auto r = reach(pid, ghost_dir + "/loose");
                INFO("pid " << pid << ":\n" << r);
                for (const char* what : {"root", "mem", "environ", "ptrace"}) CHECK(r.find(std::string(what) + " open") == std::string::npos);
            }
            // The probe is sound: a dumpable process in the ghost (an exec'd tool) is reachable,
            // as README's "does not protect against" list says.
            auto tool = reach(processes_with(marker).at(0), ghost_dir + "/loose");
            INFO(tool);
            CHECK(tool.find("root open") != std::string::npos);
        }
    }
    SECTION("the holder never execs: it runs ghostpod's full program (the one executable in a sanitizer build)") {
        std::error_code ec;
        auto exe = fs::read_symlink("/proc/" + std::to_string(session["holder_pid"].get<long>()) + "/exe", ec);
        if (!am_root()) {
            CHECK(ec);  // closed to its own uid: one more sign it is not dumpable
            GP_SKIP_PART("not root: the holder's /proc/PID/exe is closed to us; the root pass checks what it runs");
        } else {
            CHECK(exe == fs::canonical(full_program().empty() ? ghostpod_binary() : full_program()));
        }
    }
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("Protects: Other users", "[threat]") {
    VaultFixture v;
    REQUIRE(v.set("kube/config", random_marker("kube-")).exit_code == 0);
    REQUIRE(v.set("loose", random_marker("loose-")).exit_code == 0);
    auto session = start_lingering_session(v, unique_sleep());
    std::string socket = socket_of(session);
    SECTION("runtime directory 0700, control socket 0600, RAM mount 0700, secret files 0400, vault files 0600") {
        CHECK(mode_of(fs::path(socket).parent_path()) == "700");
        CHECK(mode_of(socket) == "600");
        auto r = v.gp({"run", "--", "sh", "-c", "stat -c %a \"$GHOSTPOD_DIR\" \"$GHOSTPOD_DIR/loose\" ~/.kube/config"});
        INFO(r.err);
        CHECK(r.out == "700\n400\n400\n");
        for (const char* suffix : {"", ".bak", ".lock"}) {
            INFO("vault file " << v.vault + suffix);
            CHECK(mode_of(v.vault + suffix) == "600");
        }
    }
    SECTION("the control socket serves a process of another uid nothing (SO_PEERCRED)") {
        const char* client = R"PY(
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
try:
    s.send(b"\x01\x02\x00\x00\x00\x00\x00")  # a status request (version 1, kind 2, no payload)
    print("reply" if s.recv(65536) else "closed")
except OSError as e:  # the holder hung up first
    print("closed")
)PY";
        auto own = run({"python3", "-c", client, socket});
        INFO(own.err);
        CHECK(own.out == "reply\n");
        if (!am_root()) {
            GP_SKIP_PART("not root: connecting as another uid needs root (setpriv); the root pass asserts it");
        } else {
            // Another uid that may open any file, so only the holder's own check stands in its way.
            auto other = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+dac_override",
                              "--ambient-caps=+dac_override", "/usr/bin/python3", "-c", client, socket});
            INFO(other.err);
            CHECK(other.out == "closed\n");
        }
    }
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("Protects: Leftovers after a session", "[threat]") {
    VaultFixture v;
    std::string value = random_marker("leftover-");
    REQUIRE(v.set("kube/config", value).exit_code == 0);
    std::string marker = unique_sleep();
    std::string background = "sleep " + marker + " </dev/null >/dev/null 2>&1 & readlink /proc/self/ns/mnt";
    auto expect_nothing_left = [&](const nlohmann::json& session, const std::string& mount_ns, std::chrono::milliseconds limit) {
        std::vector<long> pids;
        if (session.is_object()) pids = {session["holder_pid"].get<long>(), session["ghost_pid"].get<long>()};
        CHECK(gone_within(pids, marker, limit));
        CHECK_FALSE(mount_namespace_in_use(mount_ns));
        CHECK(plaintext_outside_vault(v, {value}).empty());
    };
    auto lingering = [&](std::vector<std::string> options) {
        std::vector<std::string> args = {"run"};
        args.insert(args.end(), options.begin(), options.end());
        args.insert(args.end(), {"--", "sh", "-c", background});
        auto r = v.gp(args);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        REQUIRE(processes_with(marker).size() == 1);
        return r.out.substr(0, r.out.find('\n'));
    };
    SECTION("lock") {
        auto ns = lingering({"--linger", "10m"});
        auto session = status_of(v)["session"];
        REQUIRE(v.gp({"lock"}).exit_code == 0);
        expect_nothing_left(session, ns, 1000ms);
        CHECK_FALSE(fs::exists(session["ghost_dir"].get<std::string>()));
    }
    SECTION("TTL") {
        auto ns = lingering({"--linger", "10m", "--ttl", "1s"});
        expect_nothing_left(status_of(v)["session"], ns, 3000ms);
    }
    SECTION("last command + linger") {
        auto ns = lingering({"--linger", "1s"});
        expect_nothing_left(status_of(v)["session"], ns, 3000ms);
    }
    SECTION("kill -9 of the holder leaves an empty directory and a dead socket") {
        auto ns = lingering({"--linger", "10m"});
        auto session = status_of(v)["session"];
        REQUIRE(::kill(session["holder_pid"].get<pid_t>(), SIGKILL) == 0);
        expect_nothing_left(session, ns, 1000ms);
        std::string ghost_dir = session["ghost_dir"], socket = socket_of(session);
        CHECK(fs::is_directory(ghost_dir));
        CHECK(fs::is_empty(ghost_dir));
        CHECK(fs::is_socket(socket));
        CHECK(connect_errno(socket) == ECONNREFUSED);
        std::string id = fs::path(socket).stem();
        for (auto& entry : fs::directory_iterator(fs::path(socket).parent_path())) {
            std::string left = entry.path().filename();
            if (left.rfind(id, 0) == 0) CHECK((left == id + ".sock" || left == id + ".ghost"));
        }
        CHECK(v.gp({"run", "--", "true"}).exit_code == 0);
    }
}

TEST_CASE("Protects: Terminal injection from inside", "[threat]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    auto outside = run({"python3", "-c", kInjectProbe});
    REQUIRE(outside.out == "TIOCSTI 25\nTIOCLINUX 25\nTIOCSCTTY 25\nTIOCSETD 25\n");  // ENOTTY: the ioctl itself reached the kernel
    const std::string denied = "TIOCSTI 1\nTIOCLINUX 1\nTIOCSCTTY 1\nTIOCSETD 1\n";
    std::string probe = "python3 -c " + shell_quote(kInjectProbe);
    SECTION("a command, its children and a new session of its own") {
        auto r = v.gp({"run", "--", "sh", "-c", probe + "; sh -c " + shell_quote(probe) + "; setsid " + probe});
        INFO(r.err);
        CHECK(r.out == denied + denied + denied);
    }
    SECTION("a shell in the ghost") {
        RunOptions o = v.options(probe + "\n");
        o.env["SHELL"] = "/bin/sh";
        auto r = v.gp_with({"shell"}, o);
        INFO(r.err);
        CHECK(r.out == denied);
    }
    SECTION("a child still running after its command exited") {
        start_lingering_session(v, unique_sleep());
        auto r = v.gp({"run", "--", "sh", "-c", "(sleep 0.3; " + probe + " >\"$GHOSTPOD_DIR/late.tmp\"; mv \"$GHOSTPOD_DIR/late.tmp\" \"$GHOSTPOD_DIR/late\") </dev/null >/dev/null 2>&1 &"});
        REQUIRE(r.exit_code == 0);
        std::string late;
        for (int i = 0; i < 50 && late.empty(); ++i) {
            std::this_thread::sleep_for(100ms);
            late = v.gp({"run", "--", "sh", "-c", "cat \"$GHOSTPOD_DIR/late\" 2>/dev/null"}).out;
        }
        CHECK(late == denied);
        REQUIRE(v.gp({"lock", "--discard"}).exit_code == 0);  // $GHOSTPOD_DIR/late is unsaved
    }
}

TEST_CASE("Protects: Terminal takeover from inside", "[threat]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    start_lingering_session(v, unique_sleep());
    std::string thief = v.dir / "thief.py", loot = v.dir / "loot";
    write_text(thief, kTerminalThief);
    fs::create_directory(loot);
    Tmux t;
    start_shell(t, v);
    auto type_a_line_after_the_thief_is_ready = [&] {
        for (int i = 0; i < 100 && !fs::exists(loot + "/report"); ++i) std::this_thread::sleep_for(50ms);
        REQUIRE(fs::exists(loot + "/report"));
        t.keys("echo typed-$((6*7))");  // what the user types next, into their own shell
        CHECK(t.shows("typed-42"));
        for (int i = 0; i < 100 && !fs::exists(loot + "/done"); ++i) std::this_thread::sleep_for(50ms);
        std::string report = read_text(loot + "/report"), stolen = read_text(loot + "/stolen");
        INFO("the thief reports:\n" << report << "and read: " << stolen);
        CHECK(stolen.find("typed") == std::string::npos);
        CHECK(report.find("took the foreground") == std::string::npos);
        CHECK(report.find("opened") == std::string::npos);  // no terminal by any path: the pty was hung up
    };
    SECTION("a process a command on the terminal left behind, after the command returned") {
        t.keys("gp run -- sh -c \"trap '' HUP; python3 '" + thief + "' '" + loot + "' & echo started\"; echo rc-$?-$((1+1))");
        REQUIRE(t.shows("rc-0-2"));
        write_text(loot + "/go", "");
        type_a_line_after_the_thief_is_ready();
    }
    SECTION("a process left by a command started from the terminal with no descriptor on it") {
        t.keys("gp run -- sh -c \"python3 '" + thief + "' '" + loot + "' &\" </dev/null >/dev/null 2>&1; echo rc-$?-$((1+1))");
        REQUIRE(t.shows("rc-0-2"));
        write_text(loot + "/go", "");
        type_a_line_after_the_thief_is_ready();
    }
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("Protects: A --profile tool reaching other secrets", "[threat]") {
    ProfileVault p("api/token", R"({"api/token": {"env": "API_TOKEN", "env_value": true}})");
    const VaultFixture& v = p.v;
    const RunOptions& o = p.options;
    const std::string &aws = p.aws, &kube = p.kube, &token = p.other;
    // A full-view tool runs alongside; the profile tool must not reach its secrets through it.
    std::string marker = unique_sleep();
    start_lingering_session(v, marker, o);
    auto in_profile = [&](const std::string& script) {
        auto r = v.gp_with({"run", "--profile", "terraform", "--", "sh", "-c", script}, o);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r.out;
    };
    auto full = v.gp_with({"run", "--", "sh", "-c", "cat ~/.kube/config; echo \" $API_TOKEN\"; readlink /proc/self/ns/pid"}, o);
    REQUIRE(full.out.rfind(kube + " " + token + "\n", 0) == 0);  // the full view has them
    SECTION("not in its mount view") {
        auto out = in_profile("cat ~/.aws/credentials; echo; find \"$GHOSTPOD_DIR\" ~ -type f 2>/dev/null | xargs cat 2>/dev/null");
        CHECK(out.rfind(aws + "\n", 0) == 0);
        CHECK_FALSE(contains(out, kube));
        CHECK_FALSE(contains(out, token));
    }
    SECTION("not in its environment") {
        auto out = in_profile("env");
        CHECK_FALSE(contains(out, token));
        CHECK_FALSE(contains(out, kube));
        CHECK(out.find("API_TOKEN=") == std::string::npos);
        CHECK(out.find("KUBECONFIG=") == std::string::npos);
    }
    SECTION("its pid namespace holds no process whose /proc/PID/root or environ shows them") {
        // The full-view `sleep MARKER` would show as a line "sleep MARKER".
        auto out = in_profile("readlink /proc/self/ns/pid; for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <\"$f\"; echo; done; cat /proc/[0-9]*/root/\"$GHOSTPOD_DIR\"/kube/config "
                              "/proc/[0-9]*/root/\"$GHOSTPOD_DIR\"/api/token /proc/[0-9]*/environ 2>/dev/null; true");
        std::string full_pid_ns = full.out.substr(full.out.find('\n') + 1);
        CHECK(out.substr(0, out.find('\n') + 1) != full_pid_ns);
        CHECK(out.find("sleep " + marker) == std::string::npos);
        CHECK_FALSE(contains(out, kube));
        CHECK_FALSE(contains(out, token));
    }
    SECTION("no trace of them at their paths: those are as they are outside the ghost") {
        auto listing = [](const std::string& out) {
            std::set<std::string> names;
            std::istringstream in(out);
            for (std::string line; std::getline(in, line);) names.insert(line);
            return names;
        };
        auto home = listing(in_profile("ls -a ~"));
        auto outside = listing(run({"ls", "-a", v.dir.path()}).out);
        outside.insert(".aws");  // the profile's own placement
        CHECK(home == outside);
        CHECK(in_profile("ls -a ~/.kube 2>&1; test -e ~/.kube/config || echo no-kube-config").find("no-kube-config") != std::string::npos);
        CHECK_FALSE(fs::exists(v.dir / ".kube"));
    }
    SECTION("the control socket answers it with its own view and serves it nothing of the whole session") {
        std::string socket = socket_of(status_of(v)["session"]);
        auto out = in_profile("python3 -c " + shell_quote(kSocketProbe) + " " + shell_quote(socket) +
                              " lock,save,certs,pull,attach,register,spawn; " + shell_quote(ghostpod_binary()) +
                              " run -- sh -c 'env; ls -R \"$GHOSTPOD_DIR\"'");
        INFO(out);
        for (const char* step : {"lock", "save", "certs", "pull", "register", "spawn"})
            CHECK(out.find(std::string(step) + " refused\n") != std::string::npos);
        // place 3 (a profile), its own secret, path and variable only.
        CHECK(out.find("attach 3 terraform aws/credentials aws/credentials " + (v.dir / ".aws/credentials") +
                       " aws/credentials AWS_SHARED_CREDENTIALS_FILE " + (v.dir / ".aws/credentials") + "\n") != std::string::npos);
        for (const char* other : {"kube/config", "api/token", "KUBECONFIG", "API_TOKEN", ".kube"}) CHECK(out.find(other) == std::string::npos);
        CHECK_FALSE(contains(out, kube));
        CHECK_FALSE(contains(out, token));
        auto status = nlohmann::json::parse(in_profile(shell_quote(ghostpod_binary()) + " status --json"));
        CHECK(status["session"]["profile"] == "terraform");
        CHECK(status["session"]["secrets"] == 1);
        CHECK_FALSE(status["session"].contains("pull"));
        CHECK(status_of(v)["session"].is_object());  // the lock was refused: the session runs on
    }
    SECTION("ghostpod in it cannot widen its view") {
        auto r = v.gp_with({"run", "--profile", "terraform", "--", "sh", "-c",
                            shell_quote(ghostpod_binary()) + " enter </dev/null; echo enter=$?; " + shell_quote(ghostpod_binary()) +
                                " run -- sh -c 'cat ~/.kube/config \"$GHOSTPOD_DIR\"/api/token; echo \"$API_TOKEN\"'"},
                           o);
        INFO(r.out << r.err);
        CHECK(r.out.find("enter=0") != std::string::npos);
        CHECK_FALSE(contains(r.out + r.err, kube));
        CHECK_FALSE(contains(r.out + r.err, token));
    }
    SECTION("a process in namespaces of its own below the ghost, and the full ghost, cannot register a view") {
        std::string socket = socket_of(status_of(v)["session"]);
        auto full_probe = v.gp_with({"run", "--", "python3", "-c", kSocketProbe, socket, "attach,register"}, o);
        INFO(full_probe.err);
        CHECK(full_probe.out.rfind("attach 2 ", 0) == 0);
        CHECK(full_probe.out.find("register refused\n") != std::string::npos);
        // Namespaces of its own: entered from outside with nsenter (a real user could do the same
        // with any tool); nobody registered them, so they get nothing.
        long tool = processes_with(marker).at(0);
        std::vector<std::string> enter = {"nsenter", "-t", std::to_string(tool), "-m", "-p", "unshare", "-m", "-p", "-f", "--mount-proc"};
        // Without root: the ghost's user namespace first, and one of its own below it to hold
        // the privilege that unshare needs.
        if (!am_root()) {
            enter.insert(enter.begin() + 3, {"-U", "--preserve-credentials"});
            enter.insert(enter.end(), {"-U", "-r"});
        }
        enter.insert(enter.end(), {"python3", "-c", kSocketProbe, socket, "attach,status,lock"});
        auto stranger = run(enter);
        INFO(stranger.err);
        CHECK(stranger.out == "attach refused\nstatus refused\nlock refused\n");
        CHECK(status_of(v)["session"].is_object());
    }
    REQUIRE(v.gp_with({"lock"}, o).exit_code == 0);
}

TEST_CASE("Protects: Secrets in the session's other processes", "[threat]") {
#if defined(__SANITIZE_ADDRESS__)
    GP_SKIP("sanitizer builds keep their own allocator, which does not zero freed memory; the release build is checked");
#endif
    if (!am_root())
        GP_SKIP("ghost init and ghostpod's clients are not dumpable, so reading their memory needs root "
                "(scripts/test.sh runs this as root)");
    std::string client_secret = random_marker("CLIENT-SECRET-"), pulled = random_marker("PULLED-");
    nlohmann::json world = {{"identities", nlohmann::json::array({{{"clientId", "the-id"}, {"clientSecret", client_secret}}})},
                            {"projects", {{"p", {{"slug", "p"}, {"environments", {{"dev", {{"folders", {{"/", {{"secrets", {{"PULLED", pulled}}}}}}}}}}}}}}}};
    FakeInfisical server(world.dump());
    VaultFixture v;
    std::string loose = random_marker("LOOSE-"), kube = random_marker("KUBE-"), token = random_marker("TOKEN-");
    REQUIRE(v.set("loose", loose).exit_code == 0);
    REQUIRE(v.set("kube/config", kube).exit_code == 0);
    REQUIRE(v.set("api/token", token).exit_code == 0);
    write_text(v.dir / "config.json",
               nlohmann::json{{"version", 1},
                              {"secrets", {{"api/token", {{"env", "API_TOKEN"}, {"env_value", true}}}}},
                              {"infisical", {{"host", server.url()}, {"project_id", "p"}, {"environment", "dev"}, {"cacert", server.ca_path()}}}}
                   .dump());
    RunOptions o = v.options();
    o.env["GHOSTPOD_CONFIG"] = v.dir / "config.json";
    o.env["INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"] = "the-id";
    o.env["INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"] = client_secret;
    std::string recovery = v.recovery_key.substr(0, 64);
    auto start = [&](RunOptions options, std::vector<std::string> args) {
        std::vector<std::string> argv = {ghostpod_binary(), "--vault", v.vault};
        argv.insert(argv.end(), args.begin(), args.end());
        return std::make_unique<Spawned>(argv, options);
    };
    std::string first = unique_sleep(), second = unique_sleep();
    std::unique_ptr<Spawned> starter;
    SECTION("a session unlocked with the passphrase") {
        starter = start(o, {"--passphrase-fd", "3", "pull", "--", "sleep", first});
    }
    SECTION("a session unlocked with the recovery key") {
        RunOptions by_recovery = o;
        by_recovery.fd_data = {{4, v.recovery_key}};
        starter = start(by_recovery, {"--recovery-key-fd", "4", "pull", "--", "sleep", first});
    }
    for (int i = 0; i < 500 && processes_with(first).empty(); ++i) std::this_thread::sleep_for(20ms);
    REQUIRE(processes_with(first).size() == 1);
    // A client joining the running session, with the same variables in its environment.
    auto joiner = start(o, {"run", "--", "sleep", second});
    for (int i = 0; i < 500 && processes_with(second).empty(); ++i) std::this_thread::sleep_for(20ms);
    REQUIRE(processes_with(second).size() == 1);
    auto session = status_of(v)["session"];
    const std::vector<std::string> needles = {v.passphrase, recovery, client_secret, loose, kube, pulled, token, v.dir.path()};
    const std::vector<std::string> names = {"the passphrase", "the recovery key", "the client secret", "a vault value",
                                            "a mapped vault value", "a pulled value", "a value mapped into the environment"};
    std::map<std::string, long> processes = {{"ghost init", session["ghost_pid"].get<long>()},
                                             {"the client that started the session", starter->pid()},
                                             {"a client that joined it", joiner->pid()},
                                             {"the first command", processes_with(first).at(0)},
                                             {"the second command", processes_with(second).at(0)}};
    for (const auto& [what, pid] : processes) {
        auto counts = occurrences_in_memory(pid, needles);
        bool command = what.find("command") != std::string::npos;
        INFO(what << " (pid " << pid << ")");
        CHECK(counts[7] > 0);  // the scan reads this process: the fixture's directory is named in it
        for (std::size_t i = 0; i < names.size(); ++i) {
            INFO(names[i]);
            // A command's environment holds the value mapped into it, by design.
            if (command && i == 6) CHECK(counts[i] > 0);
            else CHECK(counts[i] == 0);
        }
    }
    // The holder keeps the client secret (to log in again): the needle is the right one.
    CHECK(occurrences_in_memory(session["holder_pid"].get<long>(), {client_secret})[0] > 0);
    REQUIRE(v.gp_with({"lock"}, o).exit_code == 0);
    starter->wait();
    joiner->wait();
}

TEST_CASE("Protects: Links planted in the ghost", "[threat]") {
    std::string old_value = random_marker("OLD-"), new_value = random_marker("NEW-"), added = random_marker("ADDED-");
    auto world = [](const nlohmann::json& secrets) {
        return nlohmann::json{{"identities", nlohmann::json::array({{{"clientId", "id"}, {"clientSecret", "secret"}}})},
                              {"projects", {{"p", {{"slug", "p"}, {"environments", {{"dev", {{"folders", {{"/", {{"secrets", secrets}}}}}}}}}}}}}}
            .dump();
    };
    FakeInfisical server(world({{"KEY", old_value}}));
    VaultFixture v;
    write_text(v.dir / "config.json",
               nlohmann::json{{"version", 1},
                              {"infisical", {{"host", server.url()}, {"project_id", "p"}, {"environment", "dev"}, {"cacert", server.ca_path()}}}}
                   .dump());
    RunOptions o = v.options();
    o.env["GHOSTPOD_CONFIG"] = v.dir / "config.json";
    REQUIRE(v.gp_with({"identity", "set"}, [&] {
                 RunOptions with_identity = o;
                 with_identity.stdin_data = "id\nsecret\n";
                 return with_identity;
             }()).exit_code == 0);
    auto first = v.gp_with({"pull", "--no-shell"}, o);
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    std::string disk = v.dir / "disk";
    fs::create_directories(disk);
    auto in_ghost = [&](const std::string& script) {
        auto r = v.gp_with({"run", "--", "sh", "-c", script}, o);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r.out;
    };
    SECTION("$GHOSTPOD_DIR/infisical replaced by a link to a disk directory") {
        in_ghost("mv \"$GHOSTPOD_DIR/infisical\" \"$GHOSTPOD_DIR/moved\" && ln -s " + shell_quote(disk) + " \"$GHOSTPOD_DIR/infisical\"");
    }
    SECTION("the directory replaced files are moved aside to, replaced by a link") {
        in_ghost("ln -s " + shell_quote(disk) + " \"$GHOSTPOD_DIR/.ghostpod-retired\"");
    }
    server.set_world(world({{"KEY", new_value}, {"ADDED", added}}));
    auto refresh = v.gp_with({"pull", "--no-shell"}, o);
    INFO(refresh.err);
    CHECK(refresh.exit_code == 1);
    CHECK(refresh.err.find("a symbolic link or a mount is in the way") != std::string::npos);
    CHECK(refresh.err.find("nothing was written through it") != std::string::npos);
    CHECK(fs::is_empty(disk));
    CHECK(plaintext_outside_vault(v, {new_value, added, old_value}).empty());
    CHECK(in_ghost("find \"$GHOSTPOD_DIR\"/ -name '*.ghostpod-new'") == "");
    REQUIRE(v.gp_with({"lock", "--discard"}, o).exit_code == 0);  // the planted link is an unsaved change
    CHECK(fs::is_empty(disk));
}

TEST_CASE("Protects: Commands reaching each other's memory", "[threat]") {
    VaultFixture v;
    REQUIRE(v.set("a", "x").exit_code == 0);
    std::string marker = unique_sleep();
    start_lingering_session(v, marker);  // its sleep is another command's process
    // Opens /proc/PID/mem of the other command's sleep for reading and writing, signals it, and
    // does the same to a child of its own (the same domain: the probe itself is sound).
    const char* probe = R"PY(
import os, signal, subprocess, sys
def reach(pid):
    for name, flags in (("read", os.O_RDONLY), ("write", os.O_RDWR)):
        try:
            os.close(os.open("/proc/%d/mem" % pid, flags))
            print(name, "open")
        except OSError as e:
            print(name, "err%d" % e.errno)
    try:
        os.kill(pid, 0)
        print("signal sent")
    except OSError as e:
        print("signal err%d" % e.errno)
other = [int(p) for p in os.listdir("/proc") if p.isdigit() and open("/proc/%s/cmdline" % p, "rb").read() == b"sleep\0" + sys.argv[1].encode() + b"\0"]
reach(other[0])
own = subprocess.Popen(["sleep", "30"])
reach(own.pid)
own.kill()
)PY";
    auto r = v.gp({"run", "--", "python3", "-c", probe, marker});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto landlock = status_of(v)["posture"]["landlock_abi"].get<int>();
    if (landlock == 0) WARN("this kernel has no Landlock: commands are not isolated from each other here (README says so)");
    std::string denied = "read err13\nwrite err13\n";
    std::string own = "read open\nwrite open\nsignal sent\n";
    CHECK(r.out.rfind(denied, 0) == 0);
    CHECK(r.out.ends_with(own));
    if (landlock >= 6) CHECK(r.out.find("signal err1\n") != std::string::npos);
    SECTION("an interactive shell's programs share its domain, and another command cannot reach them") {
        RunOptions shell = v.options("sleep " + marker + "1 & python3 -c " + shell_quote(probe) + " " + marker + "1; kill $!\n");
        shell.env["SHELL"] = "/bin/sh";
        auto inside = v.gp_with({"shell"}, shell);
        INFO(inside.out << inside.err);
        CHECK(inside.out.rfind(own, 0) == 0);  // the shell's own background job: same domain
    }
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}

TEST_CASE("threat model: README's Protects list and the [threat] tests name the same items", "[threat-list]") {
    std::string readme_path = source_dir() + "/README.md";
    std::ifstream readme(readme_path);
    REQUIRE(readme);
    std::set<std::string> listed;
    bool inside = false;
    for (std::string line; std::getline(readme, line);) {
        if (line.rfind("What ghostpod protects:", 0) == 0) inside = true;
        else if (line.rfind("What it does not protect against:", 0) == 0) break;
        else if (inside && line.rfind("- **", 0) == 0 && line.find("**", 4) != std::string::npos) {
            std::string name = line.substr(4, line.find("**", 4) - 4);
            std::erase(name, '`');
            listed.insert(name);
        }
    }
    INFO("read " << readme_path);
    REQUIRE_FALSE(listed.empty());
    auto list = run({"/proc/self/exe", "--list-test-names-only", "[threat]"});
    std::set<std::string> tested;
    std::istringstream names(list.out);
    for (std::string name; std::getline(names, name);) {
        if (name.empty()) continue;
        tested.insert(name.rfind("Protects: ", 0) == 0 ? name.substr(10) : "(not named 'Protects: ...') " + name);
    }
    for (const auto& name : listed) {
        INFO("README lists \"" << name << "\" but no [threat] test is named \"Protects: " << name << "\"");
        CHECK(tested.count(name) == 1);
    }
    for (const auto& name : tested) {
        INFO("the [threat] test \"Protects: " << name << "\" names no item of README's Protects list");
        CHECK(listed.count(name) == 1);
    }
}
