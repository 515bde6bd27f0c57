// Which repository a ghost-only file belongs to, and the pattern that hides exactly it
// (sandbox/git_exclude.cpp); checked against the real git's own reading of the pattern.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "sandbox/git_exclude.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ghostpod::test;
using ghostpod::sandbox::exact_git_pattern;
using ghostpod::sandbox::git_repo_of;

namespace {

std::string pattern(const std::string& relative) {
    auto p = exact_git_pattern(relative);
    REQUIRE(p);
    return *p;
}

std::string work_tree_of(const std::string& target) {
    auto repo = git_repo_of(target);
    REQUIRE(repo);
    return repo->work_tree;
}

}  // namespace

TEST_CASE("the nearest .git above a file names its work tree and the info/exclude git reads", "[git_exclude]") {
    TempDir t;
    fs::create_directories(t / "repo/.git");
    fs::create_directories(t / "repo/a/b");
    auto plain = git_repo_of(t / "repo/a/b/file");
    REQUIRE(plain);
    CHECK(plain->work_tree == t / "repo");
    CHECK(plain->exclude == t / "repo/.git/info/exclude");
    // A linked worktree: a .git file, relative gitdir, and the commondir it shares info/ from.
    fs::create_directories(t / "repo/.git/worktrees/w");
    write_text(t / "repo/.git/worktrees/w/commondir", "../..\n");
    fs::create_directories(t / "w");
    write_text(t / "w/.git", "gitdir: ../repo/.git/worktrees/w\n");
    auto linked = git_repo_of(t / "w/x.tfvars");
    REQUIRE(linked);
    CHECK(linked->work_tree == t / "w");
    CHECK(fs::path(linked->exclude).lexically_normal() == fs::path(t / "repo/.git/info/exclude"));
    // A submodule: a .git file with no commondir; its own info/.
    fs::create_directories(t / "repo/.git/modules/sub");
    fs::create_directories(t / "repo/sub");
    write_text(t / "repo/sub/.git", "gitdir: " + t / "repo/.git/modules/sub" + "\n");
    auto sub = git_repo_of(t / "repo/sub/f");
    REQUIRE(sub);
    CHECK(sub->exclude == t / "repo/.git/modules/sub/info/exclude");
    // A .git file leading nowhere, and no .git at all: no repository.
    fs::create_directories(t / "broken");
    write_text(t / "broken/.git", "gitdir: /nonexistent/x\n");
    CHECK(work_tree_of(t / "broken/f").empty());
    CHECK(work_tree_of("/proc/self/status").empty());
}

TEST_CASE("the exclude pattern matches exactly the one path, whatever its characters, as git reads it", "[git_exclude]") {
    CHECK(pattern("ghost.auto.tfvars") == "/ghost.auto.tfvars");
    CHECK(pattern("d/[x]*?.conf") == "/d/\\[x]\\*\\?.conf");
    CHECK(pattern("a\\b") == "/a\\\\b");
    CHECK(pattern("trail  ") == "/trail\\ \\ ");
    CHECK_FALSE(exact_git_pattern("two\nlines"));
    // The real git: each pattern ignores its own path and not a look-alike.
    TempDir t;
    REQUIRE(run({"git", "init", "-q", t.path()}).exit_code == 0);
    fs::create_directories(t / ".git/info");
    for (std::string name : {"d/[x]*?.conf", "!bang", "#hash", "trail ", "star*"}) {
        fs::create_directories(fs::path(t / name).parent_path());
        write_text(t / name, "x");
        write_text(t / ".git/info/exclude", pattern(name) + "\n");
        auto ignored = run({"git", "-C", t.path(), "check-ignore", "--no-index", "-q", name});
        CHECK(ignored.exit_code == 0);
        write_text(t / "d/xa.conf", "x");
        write_text(t / "starX", "x");
        CHECK(run({"git", "-C", t.path(), "check-ignore", "--no-index", "-q", "d/xa.conf"}).exit_code == 1);
        CHECK(run({"git", "-C", t.path(), "check-ignore", "--no-index", "-q", "starX"}).exit_code == 1);
    }
}
