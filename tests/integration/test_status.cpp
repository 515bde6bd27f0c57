// What a running session exposes, at a glance and without the passphrase: `ghostpod status`
// lists each secret with its file, paths, variables and profiles; --profile narrows to one
// profile's view; a command in a profile's view learns nothing outside its profile. And the
// shell completions offer the config's profile names, reading a hostile config without running
// anything in it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/completion.hpp"
#include "tests/support/session.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// ghostpod with the profile vault's config and no passphrase at all.
RunResult gp_no_passphrase(const ProfileVault& p, const std::vector<std::string>& args) {
    RunOptions o = p.options;
    o.fd_data.clear();
    o.close_stdin = true;
    return p.v.gp_with(args, o);
}

const json* exposed(const json& session, const std::string& name) {
    for (const auto& e : session["exposed"])
        if (e["name"] == name) return &e;
    return nullptr;
}

// A profile vault whose api/token is also in API_TOKEN and whose config has a second profile.
struct ExposedVault {
    ProfileVault p{"api/token", R"({"api/token": {"env": "API_TOKEN", "env_value": true}})"};
    ExposedVault() {
        write_text(p.v.dir / "config.json",
                   R"({"version": 1, "secrets": {"api/token": {"env": "API_TOKEN", "env_value": true}},
                       "profiles": {"terraform": ["aws/credentials"], "k8s": ["kube/config", "api/token"]}})");
        start_lingering_session(p.v, unique_sleep(), p.options);
    }
    ~ExposedVault() { (void)p.v.gp_with({"lock"}, p.options); }
};

}  // namespace

TEST_CASE("status lists each secret of a running session with its file, paths, variables and profiles, without the passphrase",
          "[status][session]") {
    ExposedVault e;
    auto r = gp_no_passphrase(e.p, {"status", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto s = json::parse(r.out)["session"];
    CHECK(s["view"] == "*");
    CHECK(s["profiles"] == json::array({"k8s", "terraform"}));
    const json* kube = exposed(s, "kube/config");
    const json* token = exposed(s, "api/token");
    const json* aws = exposed(s, "aws/credentials");
    REQUIRE(kube);
    REQUIRE(token);
    REQUIRE(aws);
    std::string dir = s["ghost_dir"];
    CHECK((*kube)["file"] == dir + "/kube/config");
    CHECK((*kube)["paths"] == json::array({e.p.v.dir / ".kube/config"}));
    CHECK((*kube)["env"] == json::array({{{"name", "KUBECONFIG"}, {"holds", "path"}}}));
    CHECK((*kube)["profiles"] == json::array({"k8s"}));
    CHECK((*token)["env"] == json::array({{{"name", "API_TOKEN"}, {"holds", "value"}}}));
    CHECK((*aws)["profiles"] == json::array({"terraform"}));
    for (const auto& value : {e.p.aws, e.p.kube, e.p.other}) CHECK_FALSE(contains(r.out + r.err, value));
    // The text report says the same, a line each.
    auto text = gp_no_passphrase(e.p, {"status"});
    CHECK(text.exit_code == 0);
    CHECK(contains(text.out, "  exposed:    3 secret(s) in the full view\n"));
    CHECK(contains(text.out, "    api/token\n      at:       " + dir + "/api/token, $API_TOKEN (value)\n      profiles: k8s\n"));
}

TEST_CASE("status --profile shows only that profile's view, as JSON and as text", "[status][session][profile]") {
    ExposedVault e;
    auto r = gp_no_passphrase(e.p, {"status", "--profile", "terraform", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto s = json::parse(r.out)["session"];
    CHECK(s["view"] == "terraform");
    REQUIRE(s["exposed"].size() == 1);
    CHECK(s["exposed"][0]["name"] == "aws/credentials");
    CHECK(s["secrets"] == 1);
    auto text = gp_no_passphrase(e.p, {"status", "--profile", "k8s"});
    CHECK(contains(text.out, "  exposed:    2 secret(s) in profile k8s's view\n"));
    CHECK_FALSE(contains(text.out, "aws/credentials"));
    auto unknown = gp_no_passphrase(e.p, {"status", "--profile", "nope"});
    CHECK(unknown.exit_code == 2);
    CHECK(contains(unknown.err, "no such profile"));
    CHECK(contains(unknown.err, "known profiles: k8s, terraform"));
}

TEST_CASE("a command in a profile's view asking status learns no secret or profile name outside its profile",
          "[status][session][profile][attack]") {
    ExposedVault e;
    std::string gp = "'" + ghostpod_binary() + "'";
    auto own = e.p.v.gp_with({"run", "--profile", "terraform", "--", "sh", "-c", gp + " status --json"}, e.p.options);
    INFO(own.err);
    REQUIRE(own.exit_code == 0);
    auto s = json::parse(own.out)["session"];
    CHECK(s["view"] == "terraform");
    CHECK(s["profiles"] == json::array({"terraform"}));
    REQUIRE(s["exposed"].size() == 1);
    CHECK(s["exposed"][0]["profiles"] == json::array({"terraform"}));
    // Asking for the whole view, another profile's, or through the full session's variables.
    for (const std::string& ask : {gp + " status", gp + " status --profile k8s --json", gp + " status --profile '*'",
                                   gp + " --vault \"$GHOSTPOD_VAULT\" status --profile k8s"}) {
        auto r = e.p.v.gp_with({"run", "--profile", "terraform", "--", "sh", "-c", ask}, e.p.options);
        INFO(ask << "\n" << r.out << r.err);
        for (const char* hidden : {"kube/config", "api/token", "k8s", "KUBECONFIG", "API_TOKEN"})
            CHECK_FALSE(contains(r.out + r.err, hidden));
    }
    auto other = e.p.v.gp_with({"run", "--profile", "terraform", "--", "sh", "-c", gp + " status --profile k8s"}, e.p.options);
    CHECK(other.exit_code == 5);
    CHECK(contains(other.err, "refused: this process runs in profile terraform's view"));
}

TEST_CASE("bash and zsh completion offer the config's profile names for --profile", "[status][completion]") {
    TempDir d;
    fs::create_directories(d / "repo/.ghostpod");
    fs::create_directories(d / "repo/sub");
    write_text(d / "repo/.ghostpod/config.json",
               R"({"version": 1, "profiles": {"terraform": ["aws/credentials"], "k8s": []}, "other": {"profiles": {"notme": []}}})");
    std::string run_words = "ghostpod run --profile ''";
    std::string in_sub = bash_complete_in(run_words, d / "repo/sub");
    CHECK(has_line(in_sub, "terraform"));
    CHECK(has_line(in_sub, "k8s"));
    CHECK_FALSE(has_line(in_sub, "notme"));
    CHECK(bash_complete_in("ghostpod status --profile t", d / "repo") == "terraform\n");
    CHECK(bash_complete_in("ghostpod export --profile k", d / "repo") == "k8s\n");
    // --config names the file to read, wherever the shell is.
    write_text(d / "named.json", R"({"profiles": {"named-one": []}})");
    CHECK(bash_complete_in("ghostpod --config '" + (d / "named.json") + "' shell --profile ''", d.path()) == "named-one\n");
    std::string zsh = zsh_profile_names(d / "repo/sub");
    CHECK(has_line(zsh, "terraform"));
    CHECK(has_line(zsh, "k8s"));
    CHECK_FALSE(has_line(zsh, "notme"));
}

TEST_CASE("completion reads a hostile config without running anything in it and ignores bad files silently",
          "[status][completion][attack]") {
    TempDir d;
    fs::create_directories(d / "repo/.ghostpod");
    std::string pwned = d / "pwned";
    json profiles = json::object();
    for (const std::string& name : {"$(touch " + pwned + ")", "`touch " + pwned + "`", "a;touch " + pwned, "\"$(touch " + pwned + ")\"",
                                    std::string("-o"), std::string("safe")})
        profiles[name] = json::array();
    write_text(d / "repo/.ghostpod/config.json", json{{"profiles", profiles}}.dump());
    auto bash = bash_complete_in("ghostpod run --profile ''", d / "repo");
    CHECK(bash == "safe\n");
    CHECK(zsh_profile_names(d / "repo") == "safe\n");
    CHECK_FALSE(fs::exists(pwned));
    for (const std::string& bad : {std::string("{\"profiles\": {\"half"), std::string("\x00\xff garbage", 10), std::string("[]")}) {
        write_text(d / "repo/.ghostpod/config.json", bad);
        CHECK(bash_complete_in("ghostpod run --profile ''", d / "repo").empty());
        CHECK(zsh_profile_names(d / "repo").empty());
    }
    fs::remove(d / "repo/.ghostpod/config.json");
    fs::create_directories(d / "repo/.ghostpod/config.json");  // a directory where the file should be
    CHECK(bash_complete_in("ghostpod run --profile ''", d / "repo").empty());
    CHECK_FALSE(fs::exists(pwned));
}

TEST_CASE("the certificate warning is shown once per session, not by every command", "[status][session][certs][notice]") {
    VaultFixture v;
    auto cert = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "5",
                     "-subj", "/CN=soon-to-expire", "-keyout", "/dev/null", "-out", "-"});
    REQUIRE(cert.exit_code == 0);
    REQUIRE(v.set("pki/client.crt", cert.out).exit_code == 0);
    start_lingering_session(v, unique_sleep());
    auto o = v.options();
    o.env["SHELL"] = "/bin/true";
    auto first = v.gp_with({"enter"}, o);
    CHECK(first.exit_code == 0);
    CHECK(contains(first.err, "1 certificate(s) expire within 30 days"));
    auto second = v.gp_with({"enter"}, o);
    INFO("first enter's stderr: " << first.err << "\nsecond enter's stderr: " << second.err);  // a rare failure here: which words came
    CHECK(second.exit_code == 0);
    CHECK_FALSE(contains(second.err, "certificate"));
    // 'certs' still reports them whenever asked.
    CHECK(v.gp({"certs"}).exit_code == 6);
    REQUIRE(v.gp({"lock"}).exit_code == 0);
    // A new session warns again.
    start_lingering_session(v, unique_sleep());
    CHECK(contains(v.gp_with({"enter"}, o).err, "1 certificate(s) expire within 30 days"));
    REQUIRE(v.gp({"lock"}).exit_code == 0);
}
