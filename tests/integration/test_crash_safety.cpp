// Concurrent writers, kill -9 at random instants, and a full disk: the vault on disk is always
// a complete old or new generation, and no update is lost. The kill -9 property is tried in
// many more trials in-process by tests/unit/vault/test_crash.cpp (the same save steps without
// the KDF, so the kills land on the file work); here the real binary is killed in a sample.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <random>
#include <thread>

#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
using Clock = std::chrono::steady_clock;

TEST_CASE("concurrent writers lose no update", "[crash]") {
    VaultFixture v;
    constexpr int kWriters = 8;
    std::vector<std::thread> threads;
    std::vector<int> codes(kWriters, -1);
    for (int i = 0; i < kWriters; ++i)
        threads.emplace_back([&, i] { codes[i] = v.set("key-" + std::to_string(i), "value-" + std::to_string(i)).exit_code; });
    for (auto& t : threads) t.join();
    for (int i = 0; i < kWriters; ++i) {
        INFO("writer " << i);
        CHECK(codes[i] == 0);
        CHECK(v.get("key-" + std::to_string(i)).out == "value-" + std::to_string(i));
    }
}

TEST_CASE("kill -9 at random instants during saves never leaves a vault that fails to open", "[crash]") {
    VaultFixture v;
    auto value_for = [](int generation) {
        std::string value(1 << 20, static_cast<char>('a' + generation % 26));
        return value + "#" + std::to_string(generation);
    };
    REQUIRE(v.set("big", value_for(0)).exit_code == 0);
    // Time uninterrupted saves so the kill instants cover the whole run, write phase included:
    // the fastest of three, then adjusted as the trials go (a busy machine makes one timing lie).
    double full_ms = 1e9;
    for (int i = 0; i < 3; ++i) {
        auto start = Clock::now();
        REQUIRE(v.set("big", value_for(1)).exit_code == 0);
        full_ms = std::min(full_ms, std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::string current = value_for(1);

    std::mt19937 rng(std::random_device{}());
    constexpr int kTrials = 24;
    int killed_mid_run = 0, completed = 0, opened_new = 0;
    for (int trial = 2; trial < kTrials + 2; ++trial) {
        std::string next = value_for(trial);
        {
            RunOptions o = v.options(next);
            Spawned writer(gp(v.vault, {"secret", "set", "big"}), o);
            std::uniform_real_distribution<double> when(0.2 * full_ms, 1.15 * full_ms);
            std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(when(rng) * 1000)));
            writer.kill_now(SIGKILL);
            int status = writer.wait();
            status == -SIGKILL ? ++killed_mid_run : ++completed;
            full_ms *= status == -SIGKILL ? 1.03 : 0.9;  // keeps about half the writers killed mid-run
        }
        auto got = v.get("big");
        INFO("trial " << trial);
        REQUIRE(got.exit_code == 0);
        bool is_old = got.out == current, is_new = got.out == next;
        REQUIRE((is_old || is_new));
        if (is_new) {
            current = next;
            ++opened_new;
        }
    }
    WARN("kill -9 trials: " << kTrials << ", killed mid-run " << killed_mid_run << ", finished before the kill " << completed
                            << ", new generation seen " << opened_new << " times; full save " << full_ms << " ms");
    CHECK(killed_mid_run > kTrials / 4);
    // A clean save afterwards sweeps any temp file a killed writer left.
    REQUIRE(v.set("after", "x").exit_code == 0);
    for (auto& entry : std::filesystem::directory_iterator(v.dir.path()))
        CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("a full disk leaves the old vault intact and says so", "[crash]") {
    VaultFixture v;
    std::filesystem::create_directory(v.dir / "mnt");
    const char* script = R"SH(
set -u
G=$1; D=$2
if ! mount -t tmpfs -o size=512k tmpfs "$D/mnt" 2>"$D/mount-err"; then echo "mount_failed=$(cat "$D/mount-err")"; exit 0; fi
cp "$D/vault" "$D/mnt/vault"
V="$D/mnt/vault"
head -c 100000 /dev/zero | tr '\0' 's' | "$G" --vault "$V" --passphrase-fd 3 secret set small; echo "small_rc=$?"
before=$(sha256sum "$V" | cut -d' ' -f1)
head -c 600000 /dev/zero | tr '\0' 'b' | "$G" --vault "$V" --passphrase-fd 3 secret set big 2>"$D/big-err"; echo "big_rc=$?"
after=$(sha256sum "$V" | cut -d' ' -f1)
[ "$before" = "$after" ] && echo "vault_unchanged=yes"
echo "small_len=$("$G" --vault "$V" --passphrase-fd 3 secret get small | wc -c)"
echo "files=$(ls -A "$D/mnt" | tr '\n' ' ')"
echo "big_err=$(head -c 400 "$D/big-err")"
)SH";
    RunOptions o = v.options();
    o.fd_data[3] = v.passphrase + "\n" + v.passphrase + "\n" + v.passphrase + "\n";
    auto r = run({"unshare", "-Urm", "bash", "-c", script, "enospc", ghostpod_binary(), v.dir.path()}, o);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    if (r.out.find("mount_failed=") != std::string::npos) FAIL("cannot mount tmpfs in a user namespace here: " << r.out);
    CHECK(r.out.find("small_rc=0") != std::string::npos);
    CHECK(r.out.find("big_rc=1") != std::string::npos);
    CHECK(r.out.find("vault_unchanged=yes") != std::string::npos);
    CHECK(r.out.find("small_len=100000") != std::string::npos);
    CHECK(r.out.find("No space left on device (ENOSPC)") != std::string::npos);
    CHECK(r.out.find("the vault on disk is unchanged") != std::string::npos);
    // Only the vault, its backup and the lock file remain: the temp file was removed.
    CHECK(r.out.find("files=vault vault.bak vault.lock \n") != std::string::npos);
}
