// Trust (issue 14, items 1, 2, 3 and 9): what a cloned repository can make ghostpod do. The
// "Protects: …" cases are README's threat-model items ([threat]); the others check allow, deny,
// init and status around them ([trust]). The real binary against the fake Infisical server
// (tests/support/fake_infisical.py), whose request log shows what reached it.
#include <catch2/catch.hpp>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/infisical_server.hpp"
#include "tests/support/leak_scan.hpp"
#include "tests/support/session.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/vault_fixture.hpp"
#include "tests/support/vault_server.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string world(const std::string& kube, const std::string& secret = "secret") {
    return json{{"identities", json::array({{{"clientId", "id"}, {"clientSecret", secret}}})},
                {"projects", {{"proj-1", {{"slug", "demo"}, {"environments", {{"dev", {{"folders", {{"/", {{"secrets", {{"KUBECONFIG", kube}}}}}}}}}}}}}}}}
        .dump();
}

json infisical_of(const FakeInfisical& server) {
    return {{"host", server.url()}, {"project_id", "proj-1"}, {"environment", "dev"}, {"cacert", server.ca_path()}};
}

std::size_t logins(const FakeInfisical& server) {
    std::size_t n = 0;
    for (const auto& e : server.log()) n += e.value("route", "") == "login";
    return n;
}

// A vault of the user's (given with --vault: trusted as given) with the identity "id" stored,
// and a cloned repository beside it: repo/.ghostpod/config.json is found by the search.
struct Repo {
    VaultFixture v;
    std::string root = v.dir / "repo";
    std::string config = root + "/.ghostpod/config.json";

    Repo() { fs::create_directories(root + "/.ghostpod"); }
    ~Repo() { (void)gp({"lock", "--discard"}); }

    RunOptions options(const std::string& passphrase = {}) const {
        RunOptions o = v.options({}, passphrase);
        for (const char* name : {"INFISICAL_DOMAIN", "INFISICAL_API_URL", "INFISICAL_PROJECT_ID", "INFISICAL_TOKEN",
                                 "INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN", "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
                                 "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", "INFISICAL_CUSTOM_HEADERS"})
            o.env[name] = "";
        o.cwd = root;
        return o;
    }
    RunResult gp(const std::vector<std::string>& args, const std::string& stdin_data = {}) const {
        RunOptions o = options();
        o.stdin_data = stdin_data;
        return v.gp_with(args, o);
    }
    void write_config(const json& body) const { write_text(config, body.dump(2)); }
    void store_identity(const std::vector<std::string>& pin = {}) const {
        std::vector<std::string> args = {"identity", "set"};
        args.insert(args.end(), pin.begin(), pin.end());
        auto r = gp(args, "id\nsecret\n");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    }
};

// A CA of its own (not the fake server's): a config that trusts it asks for another CA.
std::string make_other_ca(const TempDir& dir) {
    RunOptions o;
    o.cwd = dir.path();
    auto r = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other.key",
                  "-out", "other.pem", "-days", "2", "-subj", "/CN=another CA"},
                 o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return dir / "other.pem";
}

}  // namespace

TEST_CASE("Protects: A repository's files you have not allowed", "[threat]") {
    std::string kube = random_marker("kube-");
    FakeInfisical server(world(kube));
    Repo repo;
    repo.store_identity();

    SECTION("a config found by the search is refused with exit 8 before the vault is unlocked or anything is sent") {
        repo.write_config({{"version", 1}, {"infisical", infisical_of(server)}});
        // A wrong passphrase: had the vault been unlocked first, this would be exit 3.
        auto refused = repo.v.gp_with({"pull", "--", "true"}, repo.options("not-the-passphrase"));
        INFO(refused.err);
        CHECK(refused.exit_code == 8);
        CHECK(contains(refused.err, repo.config));
        CHECK(contains(refused.err, "pull from " + server.url()));
        CHECK(contains(refused.err, "hint: review it, then 'ghostpod allow "));
        CHECK(server.log().empty());

        auto allowed = repo.gp({"allow"});
        INFO(allowed.err);
        REQUIRE(allowed.exit_code == 0);
        CHECK(contains(allowed.err, "allowed config " + repo.config));
        auto pulled = repo.gp({"pull", "--", "sh", "-c", "cat ~/.kube/config"});
        INFO(pulled.err);
        CHECK(pulled.exit_code == 0);
        CHECK(pulled.out == kube);

        // One byte more and it is a file the user has not seen.
        repo.write_config({{"version", 1}, {"infisical", infisical_of(server)}, {"session", {{"linger", "1s"}}}});
        auto changed = repo.gp({"pull", "--", "true"});
        CHECK(changed.exit_code == 8);
        CHECK(contains(changed.err, "it changed since you allowed it"));
        CHECK(contains(changed.err, "linger 1s"));
    }

    SECTION("a .infisical.json found by the search is refused with exit 8 before anything is sent") {
        repo.write_config({{"version", 1}, {"infisical", {{"cacert", server.ca_path()}}}});
        REQUIRE(repo.gp({"allow", repo.config}).exit_code == 0);
        write_text(repo.root + "/.infisical.json", json{{"workspaceId", "proj-1"}, {"domain", server.url()}}.dump());
        auto refused = repo.gp({"pull", "--", "true"});
        INFO(refused.err);
        CHECK(refused.exit_code == 8);
        CHECK(contains(refused.err, repo.root + "/.infisical.json"));
        CHECK(contains(refused.err, "send the vault's identity to " + server.url()));
        CHECK(server.log().empty());
        REQUIRE(repo.gp({"allow", repo.root + "/.infisical.json"}).exit_code == 0);
        auto pulled = repo.gp({"pull", "--", "sh", "-c", "cat ~/.kube/config"});
        INFO(pulled.err);
        CHECK(pulled.exit_code == 0);
        CHECK(pulled.out == kube);
    }

    SECTION("a .ghostpod/vault that links to the user's vault is refused with exit 8 until allowed") {
        fs::create_symlink("../../vault", repo.root + "/.ghostpod/vault");  // repo/.ghostpod/vault -> the user's vault
        RunOptions o = repo.options("not-the-passphrase");
        auto bare = [&](const std::vector<std::string>& args, const RunOptions& opts) {
            std::vector<std::string> argv = {ghostpod_binary(), "--passphrase-fd", "3"};
            argv.insert(argv.end(), args.begin(), args.end());
            return run(argv, opts);
        };
        auto refused = bare({"secret", "ls"}, o);
        INFO(refused.err);
        CHECK(refused.exit_code == 8);
        CHECK(contains(refused.err, repo.root + "/.ghostpod/vault"));
        CHECK(contains(refused.err, "open the vault " + repo.v.vault));
        auto status = json::parse(bare({"status", "--json"}, o).out);
        CHECK(status["vault"]["origin"] == "project");
        CHECK(status["vault"]["allowed"] == "not allowed");

        REQUIRE(bare({"allow", ".ghostpod/vault"}, o).exit_code == 0);
        auto listed = bare({"secret", "ls"}, repo.options());
        INFO(listed.err);
        CHECK(listed.exit_code == 0);
    }
}

TEST_CASE("Protects: The machine identity going to another server", "[threat]") {
    FakeInfisical home(world("kube-home")), elsewhere(world("kube-elsewhere"));
    Repo repo;
    TempDir scratch;
    std::string explicit_config = scratch / "config.json";
    auto pull_with = [&](const json& infisical, const std::map<std::string, std::string>& env = {}) {
        write_text(explicit_config, json{{"version", 1}, {"infisical", infisical}}.dump());
        RunOptions o = repo.options();
        for (const auto& [k, val] : env) o.env[k] = val;
        return repo.v.gp_with({"--config", explicit_config, "pull", "--", "sh", "-c", "cat ~/.kube/config"}, o);
    };

    SECTION("a pinned identity is sent to no other server, from any config, variable or allowed repository") {
        repo.store_identity({"--host", home.url(), "--cacert", home.ca_path()});
        auto shown = repo.gp({"identity", "show"});
        CHECK(contains(shown.out, "host: " + home.url() + "/api (pinned by identity set)"));

        auto refused = pull_with(infisical_of(elsewhere));  // a config named with --config: trusted as given
        INFO(refused.err);
        CHECK(refused.exit_code == 2);
        CHECK(contains(refused.err, "pinned to " + home.url() + "/api"));
        CHECK(contains(refused.err, "identity set --host"));
        CHECK(pull_with(infisical_of(home), {{"INFISICAL_DOMAIN", elsewhere.url()}}).exit_code == 2);
        repo.write_config({{"version", 1}, {"infisical", infisical_of(elsewhere)}});
        REQUIRE(repo.gp({"allow"}).exit_code == 0);
        CHECK(repo.gp({"pull", "--", "true"}).exit_code == 2);
        CHECK(elsewhere.log().empty());  // not one request: refused before connecting

        auto at_home = pull_with(infisical_of(home));
        INFO(at_home.err);
        CHECK(at_home.exit_code == 0);
        CHECK(at_home.out == "kube-home");
        // Re-pinning is the identity's owner's act, with the identity itself.
        repo.store_identity({"--host", elsewhere.url(), "--cacert", elsewhere.ca_path()});
        auto moved = pull_with(infisical_of(elsewhere));
        INFO(moved.err);
        CHECK(moved.exit_code == 0);
        CHECK(moved.out == "kube-elsewhere");
    }

    SECTION("an identity without a host is pinned by its first successful pull") {
        repo.store_identity();
        auto first = pull_with(infisical_of(home));
        INFO(first.err);
        REQUIRE(first.exit_code == 0);
        CHECK(contains(first.err, "pinned the vault's machine identity to " + home.url() + "/api"));
        CHECK(contains(repo.gp({"identity", "show"}).out, "host: " + home.url() + "/api (pinned by first pull)"));
        auto refused = pull_with(infisical_of(elsewhere));
        CHECK(refused.exit_code == 2);
        CHECK(elsewhere.log().empty());
        // A rotated secret keeps the pin.
        repo.store_identity();
        CHECK(pull_with(infisical_of(elsewhere)).exit_code == 2);
        CHECK(elsewhere.log().empty());
    }

    SECTION("a secret that only looks like the pin is not believed") {
        repo.store_identity();
        // What an imported archive or a mistaken 'secret set' could put under the pin's name.
        auto print = run({"openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", elsewhere.ca_path()});
        REQUIRE(print.out.find('=') != std::string::npos);
        std::string fingerprint = print.out.substr(print.out.find('=') + 1);
        fingerprint.erase(fingerprint.find_last_not_of("\n") + 1);
        json fake = {{"backend", "infisical"}, {"base_url", elsewhere.url() + "/api"}, {"ca_sha256", {fingerprint}}};
        REQUIRE(repo.gp({"secret", "set", "infisical.pin"}, fake.dump()).exit_code == 0);
        auto refused = pull_with(infisical_of(elsewhere));
        INFO(refused.err);
        CHECK(refused.exit_code == 2);
        CHECK(contains(refused.err, "not an identity pin"));
        CHECK(elsewhere.log().empty());
    }

    SECTION("a pinned private CA: a config trusting another CA is refused before connecting") {
        repo.store_identity({"--host", home.url(), "--cacert", home.ca_path()});
        json other = infisical_of(home);
        other["cacert"] = make_other_ca(scratch);
        auto refused = pull_with(other);
        INFO(refused.err);
        CHECK(refused.exit_code == 2);
        CHECK(contains(refused.err, "the CA file " + scratch / "other.pem"));
        json system = infisical_of(home);
        system.erase("cacert");
        CHECK(pull_with(system).exit_code == 2);
        CHECK(home.log().empty());
    }

    SECTION("plain http goes only to a loopback address") {
        FakeInfisical plain(world("kube-plain"), {.tls = false});
        repo.store_identity();
        json infisical = {{"host", "http://0.0.0.0:" + std::to_string(plain.port())}, {"project_id", "proj-1"}};
        auto refused = pull_with(infisical);  // 0.0.0.0 reaches this machine too, but is no loopback address
        INFO(refused.err);
        CHECK(refused.exit_code == 2);
        CHECK(contains(refused.err, "plain http://"));
        CHECK(plain.log().empty());
        infisical["host"] = plain.url();
        auto loopback = pull_with(infisical);
        INFO(loopback.err);
        CHECK(loopback.exit_code == 0);
        CHECK(loopback.out == "kube-plain");
        CHECK(logins(plain) == 1);
    }
}

TEST_CASE("Protects: A config turned into code", "[threat]") {
    Repo repo;
    REQUIRE(repo.v.set("kube/config", "apiVersion: v1\n").exit_code == 0);
    // The repository's own "kubectl", which would copy every secret out.
    std::string marker = repo.root + "/stolen";
    fs::create_directories(repo.root + "/.bin");
    write_text(repo.root + "/.bin/kubectl", "#!/bin/sh\ncp -r \"$GHOSTPOD_DIR\" " + marker + "\n");
    fs::permissions(repo.root + "/.bin/kubectl", fs::perms::owner_all);
    TempDir scratch;
    std::string config = scratch / "config.json";
    auto run_with = [&](const json& body) {
        write_text(config, body.dump());
        return repo.v.gp_with({"--config", config, "run", "--", "sh", "-c", "kubectl version"}, repo.options());
    };

    SECTION("a mapping to PATH or BASH_ENV exits 2 naming the key, and the repository's program never runs") {
        // Each of these ran the repository's code in the ghost before the rule.
        REQUIRE(repo.v.set("tool/path", repo.root + "/.bin:/usr/bin:/bin").exit_code == 0);
        auto path = run_with({{"secrets", {{"tool/path", {{"env", "PATH"}, {"env_value", true}}}}}});
        INFO(path.err);
        CHECK(path.exit_code == 2);
        CHECK(contains(path.err, "\"secrets.tool/path.env\""));
        REQUIRE(repo.v.set("hook", "cp -r \"$GHOSTPOD_DIR\" " + marker + "\n").exit_code == 0);
        write_text(config, json{{"secrets", {{"hook", {{"env", "BASH_ENV"}}}}}}.dump());
        auto bash_env = repo.v.gp_with({"--config", config, "run", "--", "bash", "-c", "true"}, repo.options());
        INFO(bash_env.err);
        CHECK(bash_env.exit_code == 2);
        CHECK(contains(bash_env.err, "\"secrets.hook.env\""));
        CHECK_FALSE(fs::exists(marker));
        // The issue's own form: a path that reads as a list, through /proc.
        auto listed = run_with({{"secrets", {{"kube/config", {{"path", "/proc/self/cwd/./.bin:/usr/bin:/bin"}, {"env", "PATH"}}}}}});
        CHECK(listed.exit_code == 2);
        CHECK(contains(listed.err, "\"secrets.kube/config."));
    }

    SECTION("loader, shell and interpreter variables are refused by name") {
        for (const char* name : {"PATH", "BASH_ENV", "ENV", "LD_PRELOAD", "PYTHONSTARTUP", "NODE_OPTIONS", "GIT_SSH_COMMAND", "PAGER"}) {
            auto r = run_with({{"secrets", {{"kube/config", {{"env", name}}}}}});
            INFO(name << ": " << r.err);
            CHECK(r.exit_code == 2);
            CHECK(contains(r.err, "\"secrets.kube/config.env\""));
        }
        CHECK_FALSE(fs::exists(marker));
    }

    SECTION("a mapped path with a tab, under /proc or over a shell's start-up file exits 2 naming the key") {
        for (const char* path : {"~/.kube/con\tfig", "/proc/self/cwd/x", "~/.bashrc", "/etc/profile"}) {
            auto r = run_with({{"secrets", {{"kube/config", {{"path", path}}}}}});
            INFO(path << ": " << r.err);
            CHECK(r.exit_code == 2);
            CHECK(contains(r.err, "\"secrets.kube/config.path\""));
        }
    }

    SECTION("an integer duration gets the same cap as a string") {
        auto r = run_with({{"session", {{"ttl", 18446744073709551615ull}}}});
        INFO(r.err);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, "\"session.ttl\""));
        auto linger = run_with({{"session", {{"linger", 999999999999ull}}}});
        CHECK(linger.exit_code == 2);
        CHECK(contains(linger.err, "\"session.linger\""));
    }
}

TEST_CASE("Protects: A squatted runtime directory", "[threat]") {
    if (::geteuid() != 0) {
        GP_SKIP("needs root to act as a second, unused uid and to make its /tmp/ghostpod-UID another user's");
    }
    // A uid no one else on this machine uses, so that squatting its /tmp/ghostpod-UID disturbs nobody.
    uid_t uid = 0;
    std::string squatted;
    for (int i = 0; i < 50 && squatted.empty(); ++i) {
        uid = 3000000 + randombytes_uniform(1000000);
        std::string dir = "/tmp/ghostpod-" + std::to_string(uid);
        if (::mkdir(dir.c_str(), 0755) == 0) squatted = dir;  // root's: "another user" took the name first
    }
    REQUIRE_FALSE(squatted.empty());
    struct Cleanup {
        std::string dir;
        ~Cleanup() { ::rmdir(dir.c_str()); }
    } cleanup{squatted};

    VaultFixture v;
    std::string value = random_marker("squat-");
    REQUIRE(v.set("token", value).exit_code == 0);
    REQUIRE(run({"chown", "-R", std::to_string(uid) + ":" + std::to_string(uid), v.dir.path()}).exit_code == 0);
    RunOptions o = v.options();
    o.env["XDG_RUNTIME_DIR"] = "";
    // The programs and the network module as an install has them, readable by that uid: the
    // build tree may sit where it cannot look (a clone in /root), and both are opened by path.
    std::string bin = v.dir / "bin";
    fs::create_directory(bin);
    fs::permissions(bin, fs::perms(0755));
    copy_programs(bin);
    auto as_user = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"setpriv", "--reuid", std::to_string(uid), "--regid", std::to_string(uid), "--clear-groups", "--"};
        for (const auto& a : gp(v.vault, args)) argv.push_back(a);
        argv[7] = bin + "/ghostpod";
        return run(argv, o);
    };

    auto started = as_user({"run", "--linger", "1m", "--", "sh", "-c", "cat \"$GHOSTPOD_DIR/token\""});
    INFO(started.err);
    REQUIRE(started.exit_code == 0);
    CHECK(started.out == value);
    CHECK(contains(started.err, squatted + " is not usable"));
    auto status = as_user({"status", "--json"});
    REQUIRE(status.exit_code == 0);
    auto session = json::parse(status.out)["session"];
    REQUIRE(session.is_object());
    std::string ghost_dir = session["ghost_dir"];
    CHECK(ghost_dir.rfind(v.dir / ".local/state/ghostpod/run-", 0) == 0);
    auto joined = as_user({"run", "--", "sh", "-c", "cat \"$GHOSTPOD_DIR/token\""});
    CHECK(joined.out == value);
    CHECK(files_containing(v.dir.path(), {value}, {v.vault, v.vault + ".bak"}).empty());  // nothing secret on disk
    CHECK(fs::is_empty(squatted));
    CHECK(as_user({"lock"}).exit_code == 0);
}

// ---- around the claims -----------------------------------------------------------------------

TEST_CASE("allow --list shows each allowed file and whether it changed, deny withdraws it", "[trust]") {
    Repo repo;
    repo.write_config({{"version", 1}});
    REQUIRE(repo.gp({"allow"}).exit_code == 0);
    auto listed = repo.gp({"allow", "--list"});
    REQUIRE(listed.exit_code == 0);
    CHECK(contains(listed.out, "config          allowed  " + repo.config));
    repo.write_config({{"version", 1}, {"session", {{"ttl", "1h"}}}});
    CHECK(contains(repo.gp({"allow", "--list"}).out, "config          changed  " + repo.config));
    CHECK(repo.gp({"run", "--", "true"}).exit_code == 8);
    REQUIRE(repo.gp({"allow", repo.config}).exit_code == 0);
    CHECK(repo.gp({"run", "--", "true"}).exit_code == 0);
    auto denied = repo.gp({"deny", repo.config});
    INFO(denied.err);
    CHECK(denied.exit_code == 0);
    CHECK(repo.gp({"run", "--", "true"}).exit_code == 8);
    CHECK(repo.gp({"allow", "--list"}).out.empty());
    // The store is the user's alone.
    struct stat st {};
    REQUIRE(::stat((repo.v.dir / ".local/state/ghostpod/allowed").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("a config that cannot be read as one is not allowed, and nothing of that call is", "[trust]") {
    Repo repo;
    write_text(repo.config, R"({"secrets": {"x": {"env": "LD_PRELOAD"}}})");
    auto r = repo.gp({"allow"});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "\"secrets.x.env\""));
    CHECK(repo.gp({"allow", "--list"}).out.empty());
}

TEST_CASE("init allows the config it writes, and not one that was there before", "[trust]") {
    TempDir dir;
    fs::create_directories(dir / "fresh");
    fs::create_directories(dir / "cloned/.ghostpod");
    write_text(dir / "cloned/.ghostpod/config.json", R"({"version": 1, "session": {"ttl": "1h"}})");
    RunOptions o;
    o.fd_data[3] = "pw\n";
    o.env = {{"GHOSTPOD_VAULT", ""}, {"GHOSTPOD_CONFIG", ""}, {"XDG_STATE_HOME", ""}, {"XDG_DATA_HOME", ""}, {"HOME", dir.path()}};
    auto gp_in = [&](const std::string& where, const std::vector<std::string>& args) {
        o.cwd = dir / where;
        std::vector<std::string> argv = {ghostpod_binary(), "--passphrase-fd", "3"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, o);
    };
    REQUIRE(gp_in("fresh", {"init", "--kdf", "interactive"}).exit_code == 0);
    auto ran = gp_in("fresh", {"run", "--", "true"});
    INFO(ran.err);
    CHECK(ran.exit_code == 0);
    auto kept = gp_in("cloned", {"init", "--kdf", "interactive"});
    REQUIRE(kept.exit_code == 0);
    CHECK(contains(kept.err, "kept the existing .ghostpod/config.json"));
    auto refused = gp_in("cloned", {"run", "--", "true"});
    CHECK(refused.exit_code == 8);
    CHECK(contains(refused.err, "sessions last 1h"));
}

TEST_CASE("status reports a repository's config as not allowed instead of failing", "[trust]") {
    Repo repo;
    repo.write_config({{"version", 1}});
    auto r = run({ghostpod_binary(), "--vault", repo.v.vault, "status", "--json"}, repo.options());
    REQUIRE(r.exit_code == 0);
    auto s = json::parse(r.out);
    CHECK(s["config"]["origin"] == "project");
    CHECK(s["config"]["allowed"] == "not allowed");
    CHECK(s["vault"]["allowed"] == "trusted as given");
    REQUIRE(repo.gp({"allow"}).exit_code == 0);
    CHECK(json::parse(run({ghostpod_binary(), "--vault", repo.v.vault, "status", "--json"}, repo.options()).out)["config"]["allowed"] ==
          "allowed");
}

TEST_CASE("identity set checks --host before reading the secret, and --cacert needs --host", "[trust]") {
    Repo repo;
    auto plain = repo.gp({"identity", "set", "--host", "http://infisical.example.com"}, "id\nsecret\n");
    CHECK(plain.exit_code == 2);
    CHECK(contains(plain.err, "plain http://"));
    CHECK(repo.gp({"identity", "set", "--cacert", "/nonexistent"}, "id\nsecret\n").exit_code == 2);
    CHECK(repo.gp({"identity", "show"}).exit_code == 1);  // nothing was stored
}

TEST_CASE("a repository's config with a vault section is refused naming the Vault server, its paths and certificates", "[trust][vault]") {
    FakeVault server(json{{"approles", json::array()}, {"mounts", json::object()}}.dump());
    Repo repo;
    json pki = {{"mount", "pki-k8s"}, {"role", "operator"}, {"common_name", "alice"}, {"for", "kube/config"}};
    repo.write_config({{"version", 1},
                       {"vault", {{"address", server.url()}, {"cacert", server.ca_path()}, {"kv", {"secret/talos", "kv/shared"}},
                                  {"pki", json::array({pki})}, {"secrets", {{"TOKEN", {{"env", "TALOS_TOKEN"}}}}}}}});
    auto refused = repo.v.gp_with({"pull", "--", "true"}, repo.options("not-the-passphrase"));
    INFO(refused.err);
    CHECK(refused.exit_code == 8);
    CHECK(contains(refused.err, "pull from Vault at " + server.url() + " (secret/talos, kv/shared) trusting the CA " + server.ca_path()));
    CHECK(contains(refused.err, "have pki-k8s/sign/operator sign a certificate for alice"));
    CHECK(contains(refused.err, "map pulled TOKEN"));
    CHECK(server.log().empty());
}
