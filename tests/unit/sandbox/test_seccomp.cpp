// The seccomp program the holder compiles once per session and clients install from the bytes
// it sends (sandbox/seccomp.*): what a client accepts, and that the bytes are a working filter.
#include <catch2/catch.hpp>
#include <linux/filter.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/seccomp.hpp"

namespace {

std::vector<std::uint8_t> compiled() {
    auto program = ghostpod::sandbox::compile_seccomp_filter();
    REQUIRE(program);
    return *program;
}

}  // namespace

TEST_CASE("the compiled seccomp program passes the checks a client makes", "[seccomp]") {
    auto program = compiled();
    CHECK(program.size() % sizeof(sock_filter) == 0);
    CHECK(ghostpod::sandbox::check_seccomp_program(program));
}

TEST_CASE("a seccomp program that is no whole number of instructions is refused", "[seccomp]") {
    auto program = compiled();
    program.pop_back();
    CHECK_FALSE(ghostpod::sandbox::check_seccomp_program(program));
    CHECK_FALSE(ghostpod::sandbox::use_seccomp_program(program));
    CHECK_FALSE(ghostpod::sandbox::check_seccomp_program({}));
}

TEST_CASE("a seccomp program longer than the kernel takes is refused", "[seccomp]") {
    auto program = compiled();
    std::vector<std::uint8_t> longer(program.begin(), program.end() - sizeof(sock_filter));
    while (longer.size() <= BPF_MAXINSNS * sizeof(sock_filter)) longer.insert(longer.end(), program.begin() + sizeof(sock_filter), program.end() - sizeof(sock_filter));
    longer.insert(longer.end(), program.end() - sizeof(sock_filter), program.end());
    CHECK_FALSE(ghostpod::sandbox::check_seccomp_program(longer));
}

TEST_CASE("a seccomp program that does not start with the architecture check is refused", "[seccomp]") {
    auto program = compiled();
    // "return allow" first: a program that would let everything through.
    sock_filter allow = BPF_STMT(BPF_RET | BPF_K, 0x7fff0000u);
    std::memcpy(program.data(), &allow, sizeof allow);
    CHECK_FALSE(ghostpod::sandbox::check_seccomp_program(program));
}

TEST_CASE("a seccomp program that does not end in a return is refused", "[seccomp]") {
    auto program = compiled();
    sock_filter load = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0);
    std::memcpy(program.data() + program.size() - sizeof load, &load, sizeof load);
    CHECK_FALSE(ghostpod::sandbox::check_seccomp_program(program));
}

TEST_CASE("installed from its bytes, the seccomp program denies ptrace", "[seccomp]") {
    auto program = compiled();
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (!ghostpod::sandbox::install_seccomp_program(program)) _exit(2);
        errno = 0;
        long rc = ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
        _exit(rc == -1 && errno == EPERM ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a process that received no seccomp program refuses to start a command", "[seccomp]") {
    CHECK_FALSE(ghostpod::sandbox::install_seccomp_program({}));
}
