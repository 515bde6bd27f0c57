// Fault injection (test builds only, see vault/fault.hpp): each step of a vault save and of
// session setup fails in turn. Every failure must say what failed, leave no partial state and
// lose nothing. A binary built without GHOSTPOD_FAULT_INJECTION (release) lists no points and
// these tests skip.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/skip.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::set<std::string> compiled_points() {
    auto r = run({ghostpod_binary(), "--fault-points"});
    std::set<std::string> points;
    if (r.exit_code != 0) return points;  // release: an unknown option
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty()) points.insert(line);
    return points;
}

// Files a save leaves next to the vault while it runs: ".<vault>.tmp-*".
std::vector<std::string> temp_files_next_to(const std::string& vault) {
    fs::path p(vault);
    std::string prefix = "." + p.filename().string() + ".tmp-";
    std::vector<std::string> found;
    for (auto& entry : fs::directory_iterator(p.parent_path()))
        if (entry.path().filename().string().rfind(prefix, 0) == 0) found.push_back(entry.path().string());
    return found;
}

RunResult gp_faulted(const VaultFixture& v, const std::vector<std::string>& args, const std::string& fault,
                     const std::string& runtime_dir, const std::string& stdin_data = {}) {
    RunOptions o = v.options(stdin_data);
    o.env["XDG_RUNTIME_DIR"] = runtime_dir;
    if (!fault.empty()) o.env["GHOSTPOD_FAULT"] = fault;
    return v.gp_with(args, o);
}

// ghostpod-holder / ghostpod-init processes started with this runtime directory. Their
// /proc/PID/environ is readable by root only (they are non-dumpable); elsewhere none are found.
std::vector<long> session_processes_for(const std::string& runtime_dir) {
    std::vector<long> pids;
    std::string needle = "XDG_RUNTIME_DIR=" + runtime_dir + '\0';
    for (auto& entry : fs::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string comm = read_bytes(entry.path() / "comm");
        if (comm != "ghostpod-holder\n" && comm != "ghostpod-init\n") continue;
        if (read_bytes(entry.path() / "environ").find(needle) != std::string::npos) pids.push_back(std::stol(name));
    }
    return pids;
}

bool sessions_gone_within(const std::string& runtime_dir, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!session_processes_for(runtime_dir).empty()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

// Whatever a session leaves in the runtime directory besides the start lock.
std::vector<std::string> session_leftovers(const std::string& runtime_dir) {
    std::vector<std::string> found;
    fs::path base = fs::path(runtime_dir) / "ghostpod";
    if (!fs::exists(base)) return found;
    for (auto& entry : fs::directory_iterator(base)) {
        std::string name = entry.path().filename();
        if (name != "session-start" && name != "session-start.lock") found.push_back(name);
    }
    return found;
}

struct VaultPoint {
    const char* point;
    const char* names;  // what the message must say failed
    bool renamed;       // the new vault is already in place when this step fails
};

constexpr VaultPoint kVaultPoints[] = {
    {"vault.write", "write ", false},
    {"vault.fsync", "fsync ", false},
    {"vault.backup_rename", "rename ", false},
    {"vault.rename", "rename ", false},
    {"vault.fsync_dir", "fsync directory ", true},
};

struct SessionPoint {
    const char* point;
    const char* names;
};

constexpr SessionPoint kSessionPoints[] = {
    {"session.clone", "clone the ghost"},
    {"session.uid_map", "/proc/self/uid_map"},
    {"session.gid_map", "/proc/self/gid_map"},
    {"session.ram_mount", "mount "},
    {"session.socket", "create a unix socket"},
    {"session.bind", "bind "},
    {"session.chmod", "chmod "},
    {"session.listen", "listen on "},
    {"session.seccomp", "install the seccomp filter"},
};

}  // namespace

TEST_CASE("the fault points compiled in are exactly the ones these tests cover", "[faults]") {
    auto points = compiled_points();
    if (points.empty()) {
        GP_SKIP(ghostpod_binary() << " has no fault points (a release build; the asan build has them)");
    }
    std::set<std::string> covered;
    for (const auto& p : kVaultPoints) covered.insert(p.point);
    for (const auto& p : kSessionPoints) covered.insert(p.point);
    CHECK(points == covered);
}

TEST_CASE("a save failing at any step says so, leaves no temp file and loses nothing", "[faults]") {
    if (compiled_points().empty()) {
        GP_SKIP(ghostpod_binary() << " has no fault points (a release build; the asan build has them)");
    }
    auto fault = GENERATE(from_range(std::begin(kVaultPoints), std::end(kVaultPoints)));
    INFO("fault " << fault.point);
    VaultFixture v;
    REQUIRE(v.set("kept", "old-value").exit_code == 0);
    REQUIRE(v.set("other", std::string("\0binary\xff", 8)).exit_code == 0);  // a .bak now exists
    std::string runtime = v.dir / "run";
    fs::create_directory(runtime);
    fs::permissions(runtime, fs::perms::owner_all, fs::perm_options::replace);
    std::string vault_before = read_bytes(v.vault), backup_before = read_bytes(v.vault + ".bak");
    REQUIRE_FALSE(backup_before.empty());

    auto r = gp_faulted(v, {"secret", "set", "kept"}, fault.point, runtime, "new-value");
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind("ghostpod: ", 0) == 0);
    CHECK(r.err.find(fault.names) != std::string::npos);
    CHECK(r.err.find(fault.point == std::string("vault.write") ? "(ENOSPC)" : "(EIO)") != std::string::npos);
    CHECK(r.err.find("new-value") == std::string::npos);
    CHECK(temp_files_next_to(v.vault).empty());

    std::string backup_after = read_bytes(v.vault + ".bak");
    if (fault.renamed) {
        // The rename is done; only its durability is unknown. The new vault is whole.
        CHECK(v.get("kept").out == "new-value");
        CHECK(backup_after == vault_before);
        CHECK(r.err.find("hint: the new vault is in place") != std::string::npos);
    } else {
        CHECK(read_bytes(v.vault) == vault_before);
        CHECK(v.get("kept").out == "old-value");
        // The previous generation is the old .bak or, once the backup step is done, the vault itself.
        CHECK((backup_after == backup_before || backup_after == vault_before));
        CHECK(r.err.find("hint: the vault on disk is unchanged") != std::string::npos);
    }
    CHECK(v.get("other").out == std::string("\0binary\xff", 8));
    // The next save without the fault goes through and cleans up after itself too (after a
    // failed rename the .bak is a link to the vault, which once left the staging link behind).
    std::string vault_second = read_bytes(v.vault);
    REQUIRE(v.set("kept", "third-value").exit_code == 0);
    CHECK(v.get("kept").out == "third-value");
    CHECK(temp_files_next_to(v.vault).empty());
    CHECK(read_bytes(v.vault + ".bak") == vault_second);
}

TEST_CASE("a session failing at any setup step says so and leaves nothing to block the next one", "[faults]") {
    if (compiled_points().empty()) {
        GP_SKIP(ghostpod_binary() << " has no fault points (a release build; the asan build has them)");
    }
    auto fault = GENERATE(from_range(std::begin(kSessionPoints), std::end(kSessionPoints)));
    std::string point = fault.point, names = fault.names;
    INFO("fault " << point);
    if (::geteuid() == 0 && (point == "session.uid_map" || point == "session.gid_map")) {
        GP_SKIP(point << ": as root the ghost has no user namespace and writes no maps (the unprivileged ASan pass runs it)");
    }
    VaultFixture v;
    REQUIRE(v.set("app/token", "faulty-session-value").exit_code == 0);
    std::string runtime = v.dir / "run";
    fs::create_directory(runtime);
    fs::permissions(runtime, fs::perms::owner_all, fs::perm_options::replace);
    std::string vault_before = read_bytes(v.vault);
    std::vector<std::string> show = {"run", "--", "sh", "-c", "cat \"$GHOSTPOD_DIR/app/token\""};

    auto r = gp_faulted(v, show, point, runtime);
    INFO(r.err);
    // A setup step failing is a runtime failure (1); the seccomp filter is installed in the
    // command's own process, which then cannot run the command (126, as for exec failures).
    CHECK(r.exit_code == (point == "session.seccomp" ? 126 : 1));
    CHECK(r.err.find("ghostpod: ") != std::string::npos);
    CHECK(r.err.find(names) != std::string::npos);
    CHECK(r.out.empty());
    CHECK(sessions_gone_within(runtime, 2000ms));
    CHECK(session_leftovers(runtime).empty());
    CHECK(read_bytes(v.vault) == vault_before);
    CHECK(gp_faulted(v, {"lock"}, "", runtime).exit_code == 5);

    auto next = gp_faulted(v, show, "", runtime);
    INFO(next.err);
    CHECK(next.exit_code == 0);
    CHECK(next.out == "faulty-session-value");
    // A one-shot session ends after its command, asynchronously: wait for it.
    CHECK(sessions_gone_within(runtime, 2000ms));
    auto deadline = std::chrono::steady_clock::now() + 2000ms;
    while (!session_leftovers(runtime).empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    CHECK(session_leftovers(runtime).empty());
}
