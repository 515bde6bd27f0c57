// Paths beneath a directory descriptor (sandbox/beneath.cpp): with openat2, and with the walk
// by hand that stands in where the kernel lacks it (openat2 answered ENOSYS by a seccomp filter
// in a forked child).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <string>

#include "sandbox/beneath.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using ghostpod::sandbox::make_parents_beneath;
using ghostpod::sandbox::open_beneath;

namespace {

// The errno `open_beneath(root, path, flags)` fails with, 0 when it opens; in a child, so that
// the walk can be forced.
int open_errno(int root, const std::string& path, int flags, bool force_walk) {
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (force_walk) {
            scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
            if (!ctx || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
                seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) != 0 || seccomp_load(ctx) != 0)
                _exit(255);
        }
        auto fd = open_beneath(root, path, flags, 0600);
        _exit(fd ? 0 : fd.error().errnum);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) != 255);
    return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("open_beneath opens what lies below its root and refuses links, escapes and absolute paths", "[sandbox][beneath]") {
    ghostpod::test::TempDir d;
    fs::create_directories(d / "root/a");
    fs::create_directories(d / "outside");
    ghostpod::test::write_text(d / "root/a/file", "x");
    fs::create_directory_symlink(d / "outside", d / "root/link");
    fs::create_symlink("file", d / "root/a/to-file");
    int root = open((d / "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(root >= 0);
    for (bool walk : {false, true}) {
        INFO((walk ? "the walk by hand" : "openat2"));
        CHECK(open_errno(root, "a/file", O_RDONLY, walk) == 0);
        CHECK(open_errno(root, "a/new", O_WRONLY | O_CREAT | O_EXCL, walk) == 0);
        CHECK(open_errno(root, "link/planted", O_WRONLY | O_CREAT | O_EXCL, walk) == ELOOP);
        CHECK(open_errno(root, "a/to-file", O_RDONLY, walk) == ELOOP);
        CHECK(open_errno(root, "../outside", O_RDONLY | O_DIRECTORY, walk) == EXDEV);
        CHECK(open_errno(root, d / "root/a/file", O_RDONLY, walk) == EXDEV);
        fs::remove(d / "root/a/new");
    }
    CHECK(fs::is_empty(d / "outside"));
    close(root);
}

TEST_CASE("make_parents_beneath makes directories below its root but not through a link", "[sandbox][beneath]") {
    ghostpod::test::TempDir d;
    fs::create_directories(d / "root");
    fs::create_directories(d / "outside");
    fs::create_directory_symlink(d / "outside", d / "root/link");
    int root = open((d / "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(root >= 0);
    CHECK(make_parents_beneath(root, "x/y/z"));
    CHECK(fs::is_directory(d / "root/x/y"));
    CHECK_FALSE(fs::exists(d / "root/x/y/z"));
    auto through = make_parents_beneath(root, "link/sub/file");
    CHECK_FALSE(through);
    CHECK(ghostpod::sandbox::blocked_by_link(through.error()));
    CHECK(fs::is_empty(d / "outside"));
    close(root);
}
