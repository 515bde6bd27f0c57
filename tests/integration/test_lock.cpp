// Nothing lost at lock: unsaved changes in the ghost stop 'lock' (exit 7, names listed) unless
// the user says save, discard, or yes on a terminal; files that exist only in the ghost inside a
// git work tree stay out of git, with the real git, and out of the repository on disk.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/infisical_setup.hpp"
#include "tests/support/session.hpp"
#include "tests/support/tmux.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;

namespace {

// A vault with kube/config (at ~/.kube/config) and proj/token placed at ~/proj/token.txt, a
// directory that exists on disk: the ghost shadows ~/proj to add the file.
struct LockVault {
    LockVault() {
        fs::create_directories(v.dir / "proj");
        write_text(v.dir / "proj/readme.txt", "on disk\n");
        REQUIRE(v.set("kube/config", "kube-before\n").exit_code == 0);
        REQUIRE(v.set("proj/token", token).exit_code == 0);
        write_config(R"({"version": 1, "secrets": {"proj/token": {"path": "~/proj/token.txt"}}})");
    }
    ~LockVault() { (void)gp({"lock", "--discard"}); }
    void write_config(const std::string& json) const { write_text(v.dir / "config.json", json); }
    RunOptions options() const {
        RunOptions o = v.options();
        o.env["GHOSTPOD_CONFIG"] = v.dir / "config.json";
        return o;
    }
    RunResult gp(const std::vector<std::string>& args) const { return v.gp_with(args, options()); }
    void start() const {
        auto r = gp({"run", "--linger", "10m", "--", "true"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    }
    RunResult inside(const std::string& script) const { return gp({"run", "--", "sh", "-c", script}); }
    bool running() const { return status_of(v)["session"].is_object(); }

    VaultFixture v;
    std::string token = random_marker("token-");
    std::string edit = random_marker("edited-");
};

// An edit of a vault file, a new file in $GHOSTPOD_DIR and a new file in the shadowed ~/proj.
void make_three_changes(const LockVault& l) {
    auto r = l.inside("chmod u+w ~/.kube/config && printf '" + l.edit + "' > ~/.kube/config && printf made > \"$GHOSTPOD_DIR/notes.txt\" && "
                      "mkdir ~/proj/build && printf out > ~/proj/build/new-in-shadow.txt");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

std::string git_objects(const std::string& repo) {
    auto r = run({"git", "-C", repo, "cat-file", "--batch-all-objects", "--batch"});
    REQUIRE(r.exit_code == 0);
    return r.out;
}

void git(const std::string& repo, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.org"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

// A repository at `repo` with one committed file.
void make_repo(const std::string& repo) {
    fs::create_directories(repo);
    git(repo, {"init", "-q", "-b", "main"});
    write_text(repo + "/main.tf", "terraform {}\n");
    git(repo, {"add", "-A"});
    git(repo, {"commit", "-qm", "first"});
}

}  // namespace

TEST_CASE("lock with unsaved changes refuses with exit 7, lists their names only and ends nothing", "[lock]") {
    LockVault l;
    l.start();
    make_three_changes(l);
    auto r = l.gp({"lock"});
    INFO(r.err);
    CHECK(r.exit_code == 7);
    CHECK(contains(r.err, "/kube/config"));
    CHECK(contains(r.err, "/notes.txt"));
    CHECK(contains(r.err, l.v.dir / "proj/build/new-in-shadow.txt"));
    CHECK_FALSE(contains(r.err, "/proj/token.txt"));  // a placement, not a change
    CHECK_FALSE(contains(r.err, "readme.txt"));      // the real directory's own file, bound in
    CHECK(contains(r.err, "ghostpod save"));
    CHECK(contains(r.err, "--discard"));
    CHECK_FALSE(contains(r.err, l.edit));
    CHECK(l.running());
    CHECK(l.inside("cat ~/.kube/config ~/proj/build/new-in-shadow.txt").out == l.edit + "out");
}

TEST_CASE("lock --json refuses with the list of unsaved changes, each saying whether save keeps it", "[lock]") {
    LockVault l;
    l.start();
    make_three_changes(l);
    auto r = l.gp({"lock", "--json"});
    CHECK(r.exit_code == 7);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["locked"] == false);
    REQUIRE(j["unsaved"].size() == 3);
    std::map<std::string, nlohmann::json> by_name;
    for (const auto& c : j["unsaved"]) by_name[fs::path(c["path"].get<std::string>()).filename()] = c;
    CHECK(by_name["config"]["change"] == "changed");
    CHECK(by_name["config"]["saveable"] == true);
    CHECK(by_name["notes.txt"]["change"] == "new");
    CHECK(by_name["notes.txt"]["saveable"] == true);
    CHECK(by_name["new-in-shadow.txt"]["path"] == l.v.dir / "proj/build/new-in-shadow.txt");
    CHECK(by_name["new-in-shadow.txt"]["saveable"] == false);
    CHECK(l.running());
}

TEST_CASE("after save only the shadowed directory's new file stops lock, and --discard ends the session", "[lock]") {
    LockVault l;
    l.start();
    make_three_changes(l);
    REQUIRE(l.gp({"save"}).exit_code == 0);
    auto r = l.gp({"lock", "--json"});
    CHECK(r.exit_code == 7);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["unsaved"].size() == 1);
    CHECK(j["unsaved"][0]["path"] == l.v.dir / "proj/build/new-in-shadow.txt");
    auto discarded = l.gp({"lock", "--discard"});
    CHECK(discarded.exit_code == 0);
    CHECK_FALSE(l.running());
    CHECK(l.v.get("kube/config").out == l.edit);
    CHECK_FALSE(fs::exists(l.v.dir / "proj/build"));  // it was the ghost's only
}

TEST_CASE("lock with nothing changed in the ghost ends the session at once", "[lock]") {
    LockVault l;
    l.start();
    REQUIRE(l.inside("cat ~/.kube/config ~/proj/token.txt >/dev/null").exit_code == 0);
    auto r = l.gp({"lock"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_FALSE(l.running());
}

TEST_CASE("save_on_lock saves first, and still refuses for what save cannot keep", "[lock]") {
    LockVault l;
    l.write_config(R"({"version": 1, "session": {"save_on_lock": true}, "secrets": {"proj/token": {"path": "~/proj/token.txt"}}})");
    l.start();
    make_three_changes(l);
    auto r = l.gp({"lock"});
    CHECK(r.exit_code == 7);
    CHECK(contains(r.err, "new-in-shadow.txt"));
    CHECK_FALSE(contains(r.err, "notes.txt"));  // saved
    CHECK(l.v.get("kube/config").out == l.edit);
    CHECK(l.v.get("notes.txt").out == "made");
    CHECK(l.running());
    REQUIRE(l.inside("rm -r ~/proj/build").exit_code == 0);
    CHECK(l.gp({"lock"}).exit_code == 0);
    CHECK_FALSE(l.running());
}

// A session with three unsaved changes, a shell on a terminal in it, and `gp lock` asking.
static void lock_with_changes_on_terminal(LockVault& l, Tmux& t) {
    l.start();
    make_three_changes(l);
    start_shell(t, l.v, "GHOSTPOD_CONFIG='" + l.v.dir / "config.json" + "'");
    t.keys("gp lock; echo rc-$?-$((1+1))");
    REQUIRE(t.shows("[y = save", 10));
}

TEST_CASE("lock on a terminal asks: Enter keeps the session, y saves and locks", "[lock][tty]") {
    LockVault l;
    Tmux t;
    lock_with_changes_on_terminal(l, t);
    CHECK(t.shows("new-in-shadow.txt"));
    t.keys("");  // Enter: the default, keep
    REQUIRE(t.shows("rc-7-2", 10));
    CHECK(l.running());
    t.keys("clear; gp lock; echo rc-$?-$((2+2))");
    REQUIRE(t.shows("[y = save", 10));
    t.keys("y");
    REQUIRE(t.shows("rc-0-4", 20));
    CHECK_FALSE(l.running());
    CHECK(l.v.get("kube/config").out == l.edit);
    CHECK(l.v.get("notes.txt").out == "made");
}

TEST_CASE("lock on a terminal: d discards the changes and locks", "[lock][tty]") {
    LockVault l;
    Tmux t;
    lock_with_changes_on_terminal(l, t);
    t.keys("d");
    REQUIRE(t.shows("rc-0-2", 20));
    CHECK_FALSE(l.running());
    CHECK(l.v.get("kube/config").out == "kube-before\n");
    CHECK(l.v.get("notes.txt").exit_code != 0);
}

// ---- git ---------------------------------------------------------------------------------

TEST_CASE("the pulled tfvars file in a git work tree stays out of git add -A in the ghost, and out of .git on disk", "[lock][git]") {
    std::string secret = random_marker("tfsecret-");
    FakeInfisical server(one_folder_world({{"TF_SECRET", secret}}));
    VaultFixture v;
    std::string config = v.dir / "config.json";
    prepare_pull(v, server, config,
                 {{"infisical", {{"tfvars", {{"path", "~/infra/ghost.auto.tfvars"}, {"variables", {{"db_password", "TF_SECRET"}}}}}}}});
    auto o = pull_options(v, config);
    std::string repo = v.dir / "infra";
    make_repo(repo);
    std::string exclude_before = read_bytes(repo + "/.git/info/exclude");
    REQUIRE_FALSE(exclude_before.empty());  // git init's template
    auto r = v.gp_with({"pull", "--", "sh", "-c",
                        "cd ~/infra && printf 'variable \"x\" {}\\n' >> main.tf && git add -A && git status --porcelain && "
                        "echo ignored: && git status --porcelain --ignored && "
                        "git -c user.name=t -c user.email=t@example.org commit -qm second"},
                       o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto ignored_at = r.out.find("ignored:");
    REQUIRE(ignored_at != std::string::npos);
    CHECK(contains(r.out.substr(0, ignored_at), "M  main.tf"));  // git works as usual otherwise
    CHECK_FALSE(contains(r.out.substr(0, ignored_at), "tfvars"));
    CHECK(contains(r.out.substr(ignored_at), "!! ghost.auto.tfvars"));  // git sees it, and ignores it
    (void)v.gp_with({"lock", "--discard"}, o);
    CHECK(read_bytes(repo + "/.git/info/exclude") == exclude_before);
    CHECK_FALSE(fs::exists(fs::symlink_status(repo + "/ghost.auto.tfvars")));
    std::string objects = git_objects(repo);
    CHECK(contains(objects, "variable \"x\""));  // the commit made in the ghost is there
    CHECK_FALSE(contains(objects, secret));
    CHECK_FALSE(contains(objects, "ghost.auto.tfvars"));
}

TEST_CASE("placed files stay out of git in a linked worktree, a repository without info/, and a profile's view", "[lock][git]") {
    VaultFixture v;
    std::string main_repo = v.dir / "main", linked = v.dir / "linked", bare = v.dir / "bare";
    make_repo(main_repo);
    git(main_repo, {"worktree", "add", "-q", "-b", "side", linked});
    REQUIRE(fs::is_regular_file(linked + "/.git"));  // "gitdir: …/main/.git/worktrees/linked"
    make_repo(bare);
    fs::remove_all(bare + "/.git/info");
    fs::create_directories(bare + "/deep/dir");
    std::string main_exclude = read_bytes(main_repo + "/.git/info/exclude");
    std::string a = random_marker("a-"), b = random_marker("b-");
    REQUIRE(v.set("wt/conf", a).exit_code == 0);
    REQUIRE(v.set("bare/conf", b).exit_code == 0);
    write_text(v.dir / "config.json", R"({"version": 1, "secrets": {"wt/conf": {"path": "~/linked/ghost.conf"},)"
                                      R"( "bare/conf": {"path": "~/bare/deep/dir/ghost [x].conf"}},)"
                                      R"( "profiles": {"p": ["bare/conf"]}})");
    RunOptions o = v.options();
    o.env["GHOSTPOD_CONFIG"] = v.dir / "config.json";
    std::string script = "git -C ~/linked status --porcelain --ignored -uall; echo sep; git -C ~/bare/deep status --porcelain --ignored -uall";
    for (std::string profile : {"", "p"}) {
        std::vector<std::string> args = {"run"};
        if (!profile.empty()) args.insert(args.end(), {"--profile", profile});
        args.insert(args.end(), {"--", "sh", "-c", script});
        auto r = v.gp_with(args, o);
        INFO(profile << "\n" << r.out << r.err);
        REQUIRE(r.exit_code == 0);
        auto sep = r.out.find("sep\n");
        REQUIRE(sep != std::string::npos);
        if (profile.empty()) CHECK(r.out.substr(0, sep) == "!! ghost.conf\n");
        CHECK(r.out.substr(sep + 4) == "!! \"deep/dir/ghost [x].conf\"\n");  // from below the work tree's top
    }
    CHECK(read_bytes(main_repo + "/.git/info/exclude") == main_exclude);
    CHECK_FALSE(fs::exists(linked + "/ghost.conf"));
    // info/ was made on disk, empty, as git init makes it; its exclude was the ghost's only.
    CHECK(fs::is_directory(bare + "/.git/info"));
    CHECK(fs::is_empty(bare + "/.git/info"));
}
