// kill -9 at random instants of a save, in a forked copy of this process that runs the writer's
// steps (lock, read, open, put, serialise, replace) without the passphrase's KDF, so the kill
// instants fall on the file work instead of mostly on Argon2: the vault on disk must open and
// hold the old or the new value every time. tests/integration/test_crash_safety.cpp kills the
// real binary in a smaller number of trials.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "tests/support/temp_dir.hpp"
#include "vault/recovery_key.hpp"
#include "vault/store.hpp"
#include "vault/vault.hpp"

using namespace ghostpod;
using Clock = std::chrono::steady_clock;

namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string value_for(int generation) {
    std::string value(1 << 20, static_cast<char>('a' + generation % 26));
    return value + "#" + std::to_string(generation);
}

// The save a `secret set big` makes, after its unlock: 0 when it completed.
int save(const std::string& path, const SecretBuffer& recovery, int generation) {
    auto lock = VaultLock::acquire(path);
    if (!lock) return 1;
    auto file = read_vault_file(path);
    if (!file) return 1;
    auto vault = Vault::open(*file, {SlotType::recovery, recovery.bytes()});
    if (!vault) return 1;
    Entry e;
    e.name = "big";
    if (!vault->put(e, as_bytes(value_for(generation)))) return 1;
    auto bytes = vault->serialise(1'700'000'000 + static_cast<std::uint64_t>(generation));
    if (!bytes) return 1;
    return replace_vault_file(path, *bytes) ? 0 : 1;
}

// Runs save() in a child, kills it with SIGKILL after `delay` (unless it finished); returns
// true when the kill came before the child's end.
bool save_and_kill(const std::string& path, const SecretBuffer& recovery, int generation,
                   std::chrono::microseconds delay) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(save(path, recovery, generation));
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) REQUIRE(WEXITSTATUS(status) == 0);
    return WIFSIGNALED(status);
}

std::string stored_value(const std::string& path, const SecretBuffer& recovery) {
    auto file = read_vault_file(path);
    if (!file) return "unreadable: " + file.error().describe();
    auto vault = Vault::open(*file, {SlotType::recovery, recovery.bytes()});
    if (!vault) return "does not open: " + vault.error().describe();
    const Entry* big = vault->find("big");
    if (big == nullptr) return "no entry";
    return {reinterpret_cast<const char*>(big->value().data()), big->value().size()};
}

}  // namespace

TEST_CASE("kill -9 at any instant of a save leaves a vault that opens with the old or the new value", "[crash]") {
    REQUIRE(sodium_init() >= 0);
    ghostpod::test::TempDir dir;
    std::string path = dir / "vault";
    auto generated = generate_recovery_key();
    REQUIRE(generated);
    // The forked writers need the key: secret memory reads as zeros in a fork unless allocated
    // to be inherited (MADV_WIPEONFORK), as a buffer meant for a child is.
    auto recovery = SecretBuffer::allocate(generated->size(), SecretBuffer::InChildren::inherited);
    REQUIRE(recovery);
    std::copy(generated->bytes().begin(), generated->bytes().end(), recovery->data());
    auto vault = Vault::create(as_bytes("crash test"), KdfProfile::interactive, recovery->bytes(), 1'700'000'000);
    REQUIRE(vault);
    auto first = vault->serialise(1'700'000'000);
    REQUIRE(first);
    REQUIRE(replace_vault_file(path, *first));
    REQUIRE(save(path, *recovery, 0) == 0);

    // Time uninterrupted saves, the fastest of three, then adjust as the trials go so that
    // about half the children are killed mid-save (a busy machine makes one timing lie).
    double full_us = 1e12;
    for (int i = 1; i <= 3; ++i) {
        auto start = Clock::now();
        REQUIRE_FALSE(save_and_kill(path, *recovery, i, std::chrono::seconds(5)));
        full_us = std::min(full_us, std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    std::string current = value_for(3);
    std::mt19937 rng(std::random_device{}());
    constexpr int kTrials = 120;
    int killed_mid_save = 0, opened_new = 0;
    for (int generation = 4; generation < kTrials + 4; ++generation) {
        std::uniform_real_distribution<double> when(0.0, 1.15 * full_us);
        bool killed = save_and_kill(path, *recovery, generation, std::chrono::microseconds(static_cast<long>(when(rng))));
        killed ? ++killed_mid_save : 0;
        full_us *= killed ? 1.03 : 0.9;
        std::string got = stored_value(path, *recovery);
        INFO("generation " << generation << ": " << got.substr(0, 80));
        bool is_old = got == current, is_new = got == value_for(generation);
        REQUIRE((is_old || is_new));
        if (is_new) {
            current = got;
            ++opened_new;
        }
    }
    WARN("in-process kill -9 trials: " << kTrials << ", killed mid-save " << killed_mid_save << ", new value seen "
                                       << opened_new << " times; full save " << full_us / 1000 << " ms");
    CHECK(killed_mid_save > kTrials / 4);
    CHECK(opened_new > kTrials / 4);
}
