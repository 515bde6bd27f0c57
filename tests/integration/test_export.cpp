// `ghostpod export`: the session's env-style values as dotenv, JSON and YAML, read back by other
// parsers (ghostpod's own dotenv reader through 'import dotenv', bash's '.', Python's json and
// PyYAML) to the exact bytes; from a running session without the passphrase, else from the vault.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/support/infisical_setup.hpp"
#include "tests/support/leak_scan.hpp"
#include "tests/support/session.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
using json = nlohmann::json;

namespace {

// Values that break naive quoting somewhere: quotes, shell expansions, backslashes, newlines,
// carriage returns, comment and '=' characters, Unicode that YAML reads as line breaks, control
// characters, and a key YAML 1.1 reads as a boolean.
std::map<std::string, std::string> awkward_values() {
    return {
        {"SINGLE", "it's"},
        {"SINGLE_AND_DOLLAR", "it's $HOME ${PATH} $(echo no) `echo no` \\$ \\ \"q\" $"},
        {"EXPANSIONS", "$HOME ${PATH} $(echo no) `echo no` $1 $$ \\$ !x"},
        {"BACKSLASHES", "a\\b\\nc\\t\\"},
        {"NEWLINES", "line one\nline two\n"},
        {"CRLF", "one\r\ntwo\rthree"},
        {"QUOTES", "\"double\" and 'single' \\\" mixed"},
        {"UNICODE", "\xc5\xbc\xc3\xb3\xc5\x82w \xf0\x9f\x90\xa2 \xe2\x80\xa8 \xc2\xa0 \xc2\x85 \xef\xbb\xbf end"},
        {"SPACES", "  lead and trail  "},
        {"HASH", "value #not a comment"},
        {"EMPTY", ""},
        {"NO", "no"},
        {"EQUALS", "a=b=c"},
        {"CONTROL", "\x01\x1b[31m red \x7f tab\tend"},
        {"PLAIN", random_marker("plain-")},
    };
}

void store_env(const VaultFixture& v, const std::map<std::string, std::string>& values) {
    for (const auto& [name, value] : values) {
        auto r = v.gp({"secret", "set", name, "--kind", "env"}, value);
        INFO(name << ": " << r.err);
        REQUIRE(r.exit_code == 0);
    }
}

std::string hex(const std::string& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) out += {digits[c >> 4], digits[c & 15]};
    return out;
}

// name → hex of the value, as printed by the readers below.
std::map<std::string, std::string> read_hex_lines(const std::string& text) {
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        std::string line = text.substr(pos, nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        auto space = line.find(' ');
        if (space != std::string::npos) out[line.substr(0, space)] = line.substr(space + 1);
    }
    return out;
}

std::map<std::string, std::string> python_reads(const std::string& module, const std::string& text) {
    std::string load = module == "json" ? "d = {e['key']: e['value'] for e in json.load(sys.stdin)}"
                                        : "d = yaml.safe_load(sys.stdin.buffer)";
    RunOptions o;
    o.stdin_data = text;
    auto r = run({"python3", "-c",
                  "import sys, " + module + "\n" + load + "\n"
                  "assert all(isinstance(k, str) and isinstance(v, str) for k, v in d.items()), d\n"
                  "for k, v in d.items(): print(k, v.encode('utf-8').hex())\n"},
                 o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return read_hex_lines(r.out);
}

std::map<std::string, std::string> bash_reads(const std::string& text, const std::vector<std::string>& names) {
    std::string script = "set -a; . /dev/stdin; set +a; for k in";
    for (const auto& n : names) script += " " + n;
    script += "; do printf '%s ' \"$k\"; printf '%s' \"${!k}\" | od -An -v -tx1 | tr -d ' \\n'; echo; done";
    RunOptions o;
    o.stdin_data = text;
    auto r = run({"bash", "--norc", "--noprofile", "-c", script}, o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return read_hex_lines(r.out);
}

// ghostpod's own dotenv parser: 'import dotenv -' into a fresh vault, then each value back.
std::map<std::string, std::string> ghostpod_dotenv_reads(const std::string& text, const std::vector<std::string>& names) {
    VaultFixture other;
    auto imported = other.gp({"import", "dotenv", "-"}, text);
    INFO(imported.err);
    REQUIRE(imported.exit_code == 0);
    std::map<std::string, std::string> out;
    for (const auto& n : names) {
        auto r = other.get(n);
        REQUIRE(r.exit_code == 0);
        out[n] = hex(r.out);
    }
    return out;
}

std::vector<std::string> names_of(const std::map<std::string, std::string>& values) {
    std::vector<std::string> names;
    for (const auto& [n, v] : values) names.push_back(n);
    return names;
}

RunResult export_without_passphrase(const VaultFixture& v, const std::vector<std::string>& args, const RunOptions& base) {
    RunOptions o = base;
    o.fd_data.clear();  // no --passphrase-fd descriptor, no terminal: asking would fail
    std::vector<std::string> argv = {ghostpod_binary(), "--vault", v.vault, "export"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, o);
}

}  // namespace

TEST_CASE("export writes every format so that other parsers read back the exact bytes", "[export]") {
    VaultFixture v;
    auto values = awkward_values();
    store_env(v, values);
    auto names = names_of(values);
    std::map<std::string, std::string> expected;
    for (const auto& [n, value] : values) expected[n] = hex(value);

    SECTION("dotenv, read by ghostpod's dotenv parser and by bash") {
        auto r = v.gp({"export"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(contains(r.out, "PLAIN='" + values["PLAIN"] + "'\n"));  // infisical export's KEY='value'
        CHECK(contains(r.out, "EMPTY=''\n"));
        CHECK(ghostpod_dotenv_reads(r.out, names) == expected);
        auto shell = bash_reads(r.out, names);
        // A shell reads the \r escape as two characters: the one documented difference.
        CHECK(shell["CRLF"] == hex("one\\r\ntwo\\rthree"));
        shell.erase("CRLF");
        auto without_crlf = expected;
        without_crlf.erase("CRLF");
        CHECK(shell == without_crlf);
    }
    SECTION("dotenv-export, sourced without set -a, exports the variables") {
        auto r = v.gp({"export", "--format", "dotenv-export"});
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.rfind("export ", 0) == 0);
        RunOptions o;
        o.stdin_data = r.out;
        auto child = run({"bash", "--norc", "--noprofile", "-c", ". /dev/stdin; sh -c 'printf %s \"$PLAIN|$SINGLE\"'"}, o);
        CHECK(child.out == values["PLAIN"] + "|it's");
        CHECK(ghostpod_dotenv_reads(r.out, names) == expected);
    }
    SECTION("json, read by Python") {
        auto r = v.gp({"export", "--format", "json"});
        REQUIRE(r.exit_code == 0);
        CHECK(json::parse(r.out).is_array());  // infisical export's shape: [{"key", "value"}]
        CHECK(python_reads("json", r.out) == expected);
    }
    SECTION("yaml, read by PyYAML, with NO still a string key") {
        if (run({"python3", "-c", "import yaml"}).exit_code != 0) FAIL("python3-yaml is not installed (scripts/install-deps.sh installs it)");
        auto r = v.gp({"export", "--format", "yaml"});
        REQUIRE(r.exit_code == 0);
        CHECK(python_reads("yaml", r.out) == expected);
    }
}

TEST_CASE("in a running session export needs no passphrase and writes what the vault would", "[export]") {
    VaultFixture v;
    store_env(v, awkward_values());
    auto from_vault = v.gp({"export", "--format", "json"});
    REQUIRE(from_vault.exit_code == 0);
    start_lingering_session(v, unique_sleep());
    for (const char* format : {"dotenv", "json", "yaml"}) {
        INFO(format);
        auto session = export_without_passphrase(v, {"--format", format}, v.options());
        INFO(session.err);
        REQUIRE(session.exit_code == 0);
        if (std::string(format) == "json") CHECK(session.out == from_vault.out);
        CHECK_FALSE(session.out.empty());
    }
    // With the session gone, the same command asks for the passphrase, and there is none.
    REQUIRE(v.gp({"lock"}).exit_code == 0);
    auto locked = export_without_passphrase(v, {}, v.options());
    CHECK(locked.exit_code == 2);
    CHECK(contains(locked.err, "--passphrase-fd"));
    auto wrong = v.gp_with({"export"}, v.options("", "not-the-passphrase"));
    CHECK(wrong.exit_code == 3);
    CHECK(wrong.out.empty());
}

TEST_CASE("export writes env secrets, value-mapped variables and pulled keys, not path variables, and "
          "--profile narrows it", "[export]") {
    std::string pulled = random_marker("pulled-"), db = random_marker("db-");
    FakeInfisical server(one_folder_world({{"API_TOKEN", pulled}, {"DB_PASS", db}}));
    VaultFixture v;
    std::string config = v.dir / "config.json";
    prepare_pull(v, server, config,
                 {{"secrets", {{"aws/key", {{"env", "AWS_ACCESS_KEY_ID"}, {"env_value", true}}}}},
                  {"profiles", {{"p", {"aws/key", "infisical/API_TOKEN"}}}},
                  {"infisical", {{"secrets", {{"DB_PASS", {{"env", "PGPASSWORD"}, {"env_value", true}}}}}}}});
    auto o = pull_options(v, config);
    std::string env_value = random_marker("env-"), aws = random_marker("aws-");
    for (auto [name, value, kind] : {std::tuple{"ENV_ONE", env_value, "env"}, {"aws/key", aws, "file"},
                                     {"kube/config", std::string("apiVersion: v1\n"), "file"}, {"dir/NAME", std::string("x"), "env"}}) {
        o.stdin_data = value;
        REQUIRE(v.gp_with({"secret", "set", name, "--kind", kind}, o).exit_code == 0);
    }
    o.stdin_data.clear();

    // Outside a session: the vault's env secret and mapped value only (pulls are a session's).
    auto vault_only = v.gp_with({"export"}, o);
    INFO(vault_only.err);
    REQUIRE(vault_only.exit_code == 0);
    CHECK(vault_only.out == "AWS_ACCESS_KEY_ID='" + aws + "'\nENV_ONE='" + env_value + "'\n");
    CHECK(contains(vault_only.err, "left out the env secret 'dir/NAME'"));

    auto pull = v.gp_with({"pull", "--no-shell", "-q"}, o);
    INFO(pull.err);
    REQUIRE(pull.exit_code == 0);
    auto session = export_without_passphrase(v, {}, o);
    INFO(session.err);
    REQUIRE(session.exit_code == 0);
    CHECK(session.out == "API_TOKEN='" + pulled + "'\nAWS_ACCESS_KEY_ID='" + aws + "'\nDB_PASS='" + db + "'\nENV_ONE='" +
                             env_value + "'\nPGPASSWORD='" + db + "'\n");
    CHECK_FALSE(contains(session.out, "KUBECONFIG"));  // a path variable: the file is the ghost's

    auto narrowed = export_without_passphrase(v, {"--profile", "p", "--format", "yaml"}, o);
    INFO(narrowed.err);
    REQUIRE(narrowed.exit_code == 0);
    CHECK(narrowed.out == "\"API_TOKEN\": \"" + pulled + "\"\n\"AWS_ACCESS_KEY_ID\": \"" + aws + "\"\n");
    auto unknown = export_without_passphrase(v, {"--profile", "nope"}, o);
    CHECK(unknown.exit_code == 2);
    CHECK(contains(unknown.err, "known profiles: p"));
    REQUIRE(v.gp_with({"lock"}, o).exit_code == 0);

    auto narrowed_vault = v.gp_with({"export", "--profile", "p"}, o);
    CHECK(narrowed_vault.out == "AWS_ACCESS_KEY_ID='" + aws + "'\n");
}

TEST_CASE("export leaves out values no format can carry and says so, and writes no file", "[export]") {
    VaultFixture v;
    std::string good = random_marker("good-");
    REQUIRE(v.gp({"secret", "set", "GOOD", "--kind", "env"}, good).exit_code == 0);
    REQUIRE(v.gp({"secret", "set", "WITH_NUL", "--kind", "env"}, std::string("a\0b", 3)).exit_code == 0);
    REQUIRE(v.gp({"secret", "set", "LATIN1", "--kind", "env"}, "caf\xe9").exit_code == 0);
    auto dotenv = v.gp({"export"});
    REQUIRE(dotenv.exit_code == 0);
    CHECK(dotenv.out == "GOOD='" + good + "'\nLATIN1='caf\xe9'\n");
    CHECK(contains(dotenv.err, "left out WITH_NUL: its value holds a NUL byte"));
    auto js = v.gp({"export", "--format", "json"});
    REQUIRE(js.exit_code == 0);
    CHECK(json::parse(js.out) == json::parse(R"([{"key": "GOOD", "value": ")" + good + "\"}]"));
    CHECK(contains(js.err, "left out LATIN1: its value is not UTF-8"));
    CHECK(files_containing(v.dir.path(), {good}).empty());
    auto bad = v.gp({"export", "--format", "xml"});
    CHECK(bad.exit_code == 2);
    CHECK(contains(bad.err, "--format must be dotenv, dotenv-export, json or yaml"));
}

TEST_CASE("export from a profile's command writes that profile's values only, whatever profile it names",
          "[export][profile]") {
    VaultFixture v;
    std::string mine = random_marker("mine-"), theirs = random_marker("theirs-");
    REQUIRE(v.gp({"secret", "set", "MINE", "--kind", "env"}, mine).exit_code == 0);
    REQUIRE(v.gp({"secret", "set", "THEIRS", "--kind", "env"}, theirs).exit_code == 0);
    write_text(v.dir / "config.json", R"({"version": 1, "profiles": {"narrow": ["MINE"], "wide": ["MINE", "THEIRS"]}})");
    RunOptions o = v.options();
    o.env["GHOSTPOD_CONFIG"] = v.dir / "config.json";
    start_lingering_session(v, unique_sleep(), o);
    std::string gp = "'" + ghostpod_binary() + "'";
    auto in_session = [&](const std::vector<std::string>& run_args, const std::string& script) {
        std::vector<std::string> args = {"run"};
        args.insert(args.end(), run_args.begin(), run_args.end());
        args.insert(args.end(), {"--", "sh", "-c", script});
        auto r = v.gp_with(args, o);
        INFO(r.err);
        CHECK(r.exit_code == 0);
        return r.out;
    };
    // The full ghost exports everything; a profile's command its own part, even when it names a
    // wider profile (the holder narrows the request to the asker's view).
    CHECK(in_session({}, gp + " export </dev/null") == "MINE='" + mine + "'\nTHEIRS='" + theirs + "'\n");
    CHECK(in_session({"--profile", "narrow"}, gp + " export </dev/null") == "MINE='" + mine + "'\n");
    auto widened = in_session({"--profile", "narrow"}, gp + " export --profile wide --format json </dev/null");
    CHECK(contains(widened, mine));
    CHECK_FALSE(contains(widened, theirs));
    REQUIRE(v.gp_with({"lock"}, o).exit_code == 0);
}
