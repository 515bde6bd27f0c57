// `ghostpod secret edit`: the editor works on a copy in a RAM mount that only its own mount
// namespace sees. A fake editor (a shell script) leaves swap, backup and temp files next to the
// file and waits while the test looks at the disk from outside; the real vim runs on a tmux
// terminal with a vimrc that sends swap, undo, backup and viminfo files to the home directory.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/leak_scan.hpp"
#include "tests/support/session.hpp"
#include "tests/support/tmux.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Logs the file's path, the file system it is on, TMPDIR, its name and whether it inherited
// descriptor 3 (the --passphrase-fd pipe); copies the file to a backup
// (NAME~), a swap file (.NAME.swp) and a temp file; writes the old value plus $GP_EDIT_APPEND
// by rename, as editors save; waits for a line on $GP_EDIT_WAIT if set; exits $GP_EDIT_EXIT.
const char* kFakeEditor = R"SH(#!/bin/sh
f="$1"; d=$(dirname "$f")
fd3=closed; [ -e /proc/$$/fd/3 ] && fd3=open
printf '%s\n' "$f" "$(stat -f -c %T "$d")" "$TMPDIR" "$(basename "$0")" "fd3-$fd3" >> "$GP_EDIT_LOG"
cp "$f" "$f~" && cp "$f" "$d/.$(basename "$f").swp" && cp "$f" "$TMPDIR/scratch" || exit 9
{ cat "$f"; printf '%s' "$GP_EDIT_APPEND"; } > "$d/.new" && mv "$d/.new" "$f" || exit 9
if [ -n "$GP_EDIT_WAIT" ]; then read line < "$GP_EDIT_WAIT"; fi
exit "${GP_EDIT_EXIT:-0}"
)SH";

struct EditFixture {
    VaultFixture v;
    std::string editor = v.dir / "fake-editor";
    std::string log = v.dir / "edit.log";
    std::string old_value = random_marker("old-"), appended = random_marker("-new-");

    EditFixture() {
        write_text(editor, kFakeEditor);
        ::chmod(editor.c_str(), 0755);
        REQUIRE(v.set("kube/config", old_value).exit_code == 0);
    }
    RunOptions options(const std::map<std::string, std::string>& env = {}) const {
        RunOptions o = v.options();
        o.env["EDITOR"] = editor;
        o.env["VISUAL"] = "";
        o.env["GP_EDIT_LOG"] = log;
        o.env["GP_EDIT_APPEND"] = appended;
        for (auto& [k, value] : env) o.env[k] = value;
        return o;
    }
    std::vector<std::string> log_lines() const {
        std::vector<std::string> lines;
        std::ifstream in(log);
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        return lines;
    }
    std::uint64_t generation() const { return status_of(v)["vault"]["generation"].get<std::uint64_t>(); }
};

// Where a careless editor or program would leave the value.
std::vector<std::string> disk_copies(const EditFixture& f, const std::vector<std::string>& needles) {
    std::vector<std::string> hits;
    for (const char* root : {"/tmp", "/var/tmp", "/dev/shm"}) {
        auto found = files_containing(root, needles);
        hits.insert(hits.end(), found.begin(), found.end());
    }
    auto home = files_containing(f.v.dir.path(), needles);
    hits.insert(hits.end(), home.begin(), home.end());
    return hits;
}

}  // namespace

TEST_CASE("secret edit keeps the file and the editor's swap, backup and temp files in RAM and saves the change",
          "[edit]") {
    EditFixture f;
    std::string fifo = f.v.dir / "wait.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    Spawned edit(gp(f.v.vault, {"secret", "edit", "kube/config"}), f.options({{"GP_EDIT_WAIT", fifo}}));
    for (int i = 0; i < 200 && f.log_lines().size() < 5; ++i) std::this_thread::sleep_for(50ms);
    auto lines = f.log_lines();
    REQUIRE(lines.size() == 5);
    fs::path file = lines[0], dir = file.parent_path();
    // The editor saw a RAM file system with the file, its copies and its TMPDIR in it...
    CHECK((lines[1] == "ramfs" || lines[1] == "tmpfs"));
    CHECK(file.filename() == "config");
    CHECK(lines[2] == (dir / "tmp").string());
    CHECK(lines[4] == "fd3-closed");  // descriptors 0-2 only
    // ...which outside its mount namespace is an empty directory: nothing of it is on disk.
    CHECK(fs::is_directory(dir));
    CHECK(fs::is_empty(dir));
    CHECK(disk_copies(f, {f.old_value, f.appended}).empty());

    std::ofstream(fifo) << "go\n";
    CHECK(edit.wait() == 0);
    CHECK_FALSE(fs::exists(dir));  // the mount point goes too
    auto saved = f.v.get("kube/config");
    CHECK(saved.out == f.old_value + f.appended);
    CHECK(disk_copies(f, {f.old_value, f.appended}).empty());
}

TEST_CASE("an editor that exits non-zero leaves the secret unchanged and says so", "[edit]") {
    EditFixture f;
    auto before = f.generation();
    auto r = f.v.gp_with({"secret", "edit", "kube/config"}, f.options({{"GP_EDIT_EXIT", "3"}}));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "exited with status 3"));
    CHECK(contains(r.err, "'kube/config' is unchanged in the vault"));
    CHECK(f.v.get("kube/config").out == f.old_value);
    CHECK(f.generation() == before);
    auto missing = f.v.gp_with({"secret", "edit", "kube/config"}, f.options({{"EDITOR", "/nonexistent/editor"}}));
    CHECK(missing.exit_code == 1);
    CHECK(f.v.get("kube/config").out == f.old_value);
}

TEST_CASE("an edit that changes nothing writes nothing, and a new name starts empty", "[edit]") {
    EditFixture f;
    auto before = f.generation();
    auto same = f.v.gp_with({"secret", "edit", "kube/config"}, f.options({{"EDITOR", "true"}}));
    CHECK(same.exit_code == 0);
    CHECK(contains(same.err, "no change: 'kube/config' is as it was"));
    CHECK(f.generation() == before);
    auto fresh = f.v.gp_with({"secret", "edit", "notes/new"}, f.options());
    INFO(fresh.err);
    CHECK(fresh.exit_code == 0);
    CHECK(f.v.get("notes/new").out == f.appended);
    auto listed = nlohmann::json::parse(f.v.gp({"secret", "ls", "--json"}).out);
    bool found = false;
    for (const auto& e : listed)
        if (e["name"] == "notes/new") found = e["source"] == "editor" && e["mode"] == "0400" && e["kind"] == "file";
    CHECK(found);
}

TEST_CASE("secret edit holds the writer lock until it saves: a concurrent set waits and no update is lost", "[edit]") {
    EditFixture f;
    std::string fifo = f.v.dir / "wait.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    Spawned edit(gp(f.v.vault, {"secret", "edit", "kube/config"}), f.options({{"GP_EDIT_WAIT", fifo}}));
    for (int i = 0; i < 200 && f.log_lines().size() < 5; ++i) std::this_thread::sleep_for(50ms);
    REQUIRE(f.log_lines().size() == 5);
    std::atomic<bool> set_done{false};
    int set_exit = -1;
    std::thread setter([&] {
        set_exit = f.v.set("other", "other-value").exit_code;
        set_done = true;
    });
    std::this_thread::sleep_for(1500ms);
    CHECK_FALSE(set_done.load());  // waiting for the lock the edit holds
    std::ofstream(fifo) << "go\n";
    CHECK(edit.wait() == 0);
    setter.join();
    CHECK(set_exit == 0);
    CHECK(f.v.get("kube/config").out == f.old_value + f.appended);
    CHECK(f.v.get("other").out == "other-value");
}

TEST_CASE("the editor is $EDITOR, else $VISUAL, else vi from PATH, a wrong passphrase starts none", "[edit]") {
    EditFixture f;
    fs::path bin = f.v.dir / "bin";
    fs::create_directory(bin);
    for (const char* name : {"from-editor", "from-visual", "vi"}) fs::copy_file(f.editor, bin / name);
    std::string path = bin.string() + ":/usr/bin:/bin";
    auto editor_used = [&](const std::map<std::string, std::string>& env) {
        fs::remove(f.log);
        auto r = f.v.gp_with({"secret", "edit", "kube/config"}, f.options(env));
        INFO(r.err);
        CHECK(r.exit_code == 0);
        auto lines = f.log_lines();
        return lines.size() == 5 ? lines[3] : std::string("none");
    };
    CHECK(editor_used({{"PATH", path}, {"EDITOR", "from-editor"}, {"VISUAL", "from-visual"}}) == "from-editor");
    CHECK(editor_used({{"PATH", path}, {"EDITOR", ""}, {"VISUAL", "from-visual"}}) == "from-visual");
    CHECK(editor_used({{"PATH", path}, {"EDITOR", ""}, {"VISUAL", ""}}) == "vi");
    fs::remove(f.log);
    auto wrong = f.v.gp_with({"secret", "edit", "kube/config"}, [&] {
        auto o = f.options();
        o.fd_data[3] = "not-the-passphrase\n";
        return o;
    }());
    CHECK(wrong.exit_code == 3);
    CHECK_FALSE(fs::exists(f.log));
}

TEST_CASE("vim on a terminal edits the secret and its swap, undo, backup and viminfo files get none of it",
          "[edit][tty]") {
    if (run({"vim", "--version"}).exit_code != 0) FAIL("vim is not installed (scripts/install-deps.sh installs it)");
    EditFixture f;
    // A vimrc that keeps everything vim can keep, in the home directory, on disk.
    fs::path state = f.v.dir / "vimstate";
    for (const char* sub : {"swap", "undo", "backup"}) fs::create_directories(state / sub);
    write_text(f.v.dir / ".vimrc", "set nocompatible undofile undodir=" + (state / "undo").string() + "// directory=" +
                                       (state / "swap").string() + "// backup writebackup backupdir=" +
                                       (state / "backup").string() + "// viminfo='100,<1000,s100,:100,n" +
                                       (state / "viminfo").string() + "\n");
    std::string typed = random_marker("typed-");
    Tmux t;
    start_shell(t, f.v);
    t.keys("EDITOR=vim gp secret edit kube/config; echo \"edit-exit=$?\"");
    REQUIRE(t.shows("Passphrase for", 20));
    t.keys(f.v.passphrase);
    INFO(t.screen());
    REQUIRE(t.shows(f.old_value, 20));
    t.keys("ggdG", false);                // deleted text goes to a register, which viminfo would keep
    t.keys("i" + typed, false);
    t.key("Escape");
    t.keys(":wq");
    REQUIRE(t.shows("edit-exit=0", 20));
    auto saved = f.v.get("kube/config").out;
    CHECK((saved == typed + "\n" || saved == typed));
    CHECK(disk_copies(f, {f.old_value, typed}).empty());
    std::size_t state_files = 0;
    for (auto& e : fs::recursive_directory_iterator(state)) state_files += e.is_regular_file();
    CHECK(state_files == 0);
}
