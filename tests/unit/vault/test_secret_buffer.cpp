#include <catch2/catch.hpp>
#include <sodium.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>

#include "tests/support/skip.hpp"
#include "vault/secret_buffer.hpp"

using ghostpod::SecretBuffer;

namespace {
std::span<const std::uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

TEST_CASE("a secret buffer keeps appended bytes in order across growth", "[secret_buffer]") {
    REQUIRE(sodium_init() >= 0);
    auto buffer = SecretBuffer::allocate(0);
    REQUIRE(buffer);
    std::string expected;
    for (int i = 0; i < 5000; ++i) {
        std::string piece = std::to_string(i) + ",";
        REQUIRE(buffer->append(as_bytes(piece)));
        expected += piece;
    }
    REQUIRE(buffer->size() == expected.size());
    CHECK(buffer->view() == expected);
}

TEST_CASE("truncating a secret buffer wipes the bytes past the new end", "[secret_buffer]") {
    auto buffer = SecretBuffer::copy_of(as_bytes("keep-this|wipe-that"));
    REQUIRE(buffer);
    const std::uint8_t* raw = buffer->data();
    buffer->truncate(9);
    CHECK(buffer->view() == "keep-this");
    for (std::size_t i = 9; i < 19; ++i) CHECK(raw[i] == 0);
}

TEST_CASE("moving a secret buffer transfers ownership and empties the source", "[secret_buffer]") {
    auto first = SecretBuffer::copy_of(as_bytes("token"));
    REQUIRE(first);
    SecretBuffer moved = std::move(*first);
    CHECK(moved.view() == "token");
    CHECK(first->size() == 0);
    CHECK(first->data() == nullptr);
}

TEST_CASE("equals compares contents and length", "[secret_buffer]") {
    auto a = SecretBuffer::copy_of(as_bytes("same"));
    REQUIRE(a);
    CHECK(a->equals(as_bytes("same")));
    CHECK_FALSE(a->equals(as_bytes("samf")));
    CHECK_FALSE(a->equals(as_bytes("sam")));
}

TEST_CASE("a key buffer lives in memfd_secret memory where the kernel offers it", "[secret_buffer]") {
    auto key = SecretBuffer::allocate_key(32);
    REQUIRE(key);
    REQUIRE(key->size() == 32);
    if (ghostpod::memfd_secret_available()) {
        CHECK(key->backing() == SecretBuffer::Backing::secretmem);
    } else {
        GP_SKIP_PART("memfd_secret is unavailable on this kernel; checking the sodium_malloc fallback instead");
        CHECK(key->backing() == SecretBuffer::Backing::sodium);
    }
    std::memset(key->data(), 0xab, 32);
    CHECK(key->data()[31] == 0xab);
    // Growing a key re-homes it into sodium memory without losing bytes.
    REQUIRE(key->push_back(0xcd));
    CHECK(key->size() == 33);
    CHECK(key->data()[0] == 0xab);
    CHECK(key->data()[32] == 0xcd);
}

TEST_CASE("reading a descriptor into secret memory stops at the size limit", "[secret_buffer]") {
    int p[2];
    REQUIRE(pipe(p) == 0);
    std::string data(100, 'x');
    REQUIRE(write(p[1], data.data(), data.size()) == 100);
    close(p[1]);
    auto too_big = SecretBuffer::read_fd(p[0], 99, "test pipe");
    close(p[0]);
    REQUIRE_FALSE(too_big);
    CHECK(too_big.error().code == ghostpod::ErrorCode::usage);

    REQUIRE(pipe(p) == 0);
    REQUIRE(write(p[1], data.data(), data.size()) == 100);
    close(p[1]);
    auto exact = SecretBuffer::read_fd(p[0], 100, "test pipe");
    close(p[0]);
    REQUIRE(exact);
    CHECK(exact->view() == data);
}

namespace {

// What a forked child finds: runs `look` in the child, whose exit status (or signal) is returned.
int in_forked_child(const std::function<int()>& look) {
    pid_t child = fork();
    if (child == 0) {
        signal(SIGSEGV, SIG_DFL);  // the test runner's crash handler would report the expected fault
        _exit(look());
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool all_zero(const SecretBuffer& b) {
    for (std::size_t i = 0; i < b.size(); ++i)
        if (b.data()[i] != 0) return false;
    return true;
}

}  // namespace

TEST_CASE("a forked child finds secret memory wiped, and a buffer allocated as inherited intact", "[secret_buffer]") {
    auto wiped = SecretBuffer::copy_of(as_bytes("a secret no child may see"));
    auto grown = SecretBuffer::allocate(0);
    auto inherited = SecretBuffer::allocate(0, SecretBuffer::InChildren::inherited);
    REQUIRE(wiped);
    REQUIRE(grown);
    REQUIRE(inherited);
    for (int i = 0; i < 2000; ++i) REQUIRE(grown->append(as_bytes("grows across reallocations ")));
    REQUIRE(inherited->append(as_bytes("KEY=an environment for exec")));
    CHECK(inherited->in_children() == SecretBuffer::InChildren::inherited);
    CHECK(in_forked_child([&] { return all_zero(*wiped) && wiped->size() == 25 ? 0 : 1; }) == 0);
    CHECK(in_forked_child([&] { return all_zero(*grown) ? 0 : 1; }) == 0);
    CHECK(in_forked_child([&] { return inherited->view() == "KEY=an environment for exec" ? 0 : 1; }) == 0);
    // Dropping the wiped copy in the child neither aborts there (sodium_free would take the
    // zeroed canary for an overflow) nor touches the parent's bytes.
    CHECK(in_forked_child([&] {
              *wiped = SecretBuffer{};
              *grown = SecretBuffer{};
              return 0;
          }) == 0);
    CHECK(wiped->view() == "a secret no child may see");
}

TEST_CASE("a forked child has no mapping of a memfd_secret key", "[secret_buffer]") {
    if (!ghostpod::memfd_secret_available()) {
        WARN("memfd_secret is unavailable on this kernel; its MADV_DONTFORK is not checked");
        return;
    }
    auto key = SecretBuffer::allocate_key(32);
    REQUIRE(key);
    REQUIRE(key->backing() == SecretBuffer::Backing::secretmem);
    std::memset(key->data(), 0x5a, 32);
    volatile const std::uint8_t* byte = key->data();
    CHECK(in_forked_child([&] { return *byte == 0x5a ? 0 : 1; }) == 128 + SIGSEGV);
    CHECK(in_forked_child([&] {
              *key = SecretBuffer{};  // no wipe of a mapping that is not there
              return 0;
          }) == 0);
    CHECK(key->data()[0] == 0x5a);
}
