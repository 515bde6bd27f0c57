// ghostpod import tazpod / dotenv with the real binary. TazPod archives come from
// tests/support/make_tazpod.py, a writer built on python3-cryptography, tarfile and gzip that
// shares no code with ghostpod's reader.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
using nlohmann::json;

namespace {

const std::string kPem =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDUtazpodImportTestKeyNotARealOneAtAllxxxxxxxxxxxxxxxxxxxxxxx\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
const std::string kLongPath = "deep/" + std::string(60, 'a') + "/" + std::string(60, 'b') + "/token.txt";

std::string hex_of(const std::string& bytes) {
    std::string hex(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    hex.pop_back();
    return hex;
}

json file_entry(const std::string& name, const std::string& data, int mode = 0600) {
    return {{"name", name}, {"type", "file"}, {"hex", hex_of(data)}, {"mode", mode}};
}

json other_entry(const std::string& name, const std::string& type, const std::string& target = "") {
    return {{"name", name}, {"type", type}, {"target", target}};
}

// Writes the archive with the independent Python writer; the passphrase goes over a pipe.
void make_archive(const std::string& out, const std::string& passphrase, const json& spec) {
    RunOptions o;
    o.stdin_data = spec.dump();
    o.fd_data[4] = passphrase + "\n";
    auto r = run({"python3", source_dir() + "/tests/support/make_tazpod.py", out, "--passphrase-fd", "4"}, o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

RunResult import_tazpod(const VaultFixture& v, const std::string& archive, const std::string& passphrase,
                        std::vector<std::string> extra = {}) {
    RunOptions o = v.options();
    o.fd_data[4] = passphrase + "\n";
    std::vector<std::string> args = {"import", "tazpod", archive, "--tazpod-passphrase-fd", "4"};
    args.insert(args.end(), extra.begin(), extra.end());
    return v.gp_with(args, o);
}

std::string binary_value() {
    std::string b;
    for (int i = 0; i < 256; ++i) b.push_back(static_cast<char>(i));
    return b + "\r\n\n" + b;
}

json good_entries(const std::string& tazpod_pass) {
    // a/b/c.txt is stored twice: the later copy counts, as tar extraction would have it.
    return json::array({other_entry("a", "dir"), other_entry("a/b", "dir"), file_entry("a/b/c.txt", "stale\n", 0600),
                        file_entry("a/b/c.txt", "nested\n", 0644),
                        file_entry(".vault_pass", tazpod_pass + "\n"), file_entry("ssh/id_ed25519", kPem, 0400),
                        file_entry("bin/blob", binary_value(), 0700), file_entry(kLongPath, "long-path-value")});
}

// What 'secret ls --json' says, and the vault's bytes: both must stay put when an import is refused.
std::pair<std::string, std::string> vault_state(const VaultFixture& v) {
    auto ls = v.gp({"secret", "ls", "--json"});
    REQUIRE(ls.exit_code == 0);
    return {ls.out, read_text(v.vault)};
}

json listing(const VaultFixture& v) {
    auto ls = v.gp({"secret", "ls", "--json"});
    REQUIRE(ls.exit_code == 0);
    return json::parse(ls.out);
}

// A vault and, next to it, a TazPod archive of good_entries() under its own passphrase.
struct TazpodFixture {
    TazpodFixture() { make_archive(archive, pass, {{"entries", good_entries(pass)}}); }
    RunResult import(std::vector<std::string> extra = {}) const { return import_tazpod(v, archive, pass, std::move(extra)); }

    VaultFixture v;
    std::string pass = random_marker("tazpod-pass-");
    std::string archive = v.dir / "vault.tar.aes";
};

}  // namespace

TEST_CASE("import tazpod brings every file in byte-exact, in pax, GNU and ustar archives", "[import]") {
    for (const char* format : {"pax", "gnu", "ustar"}) {
        INFO("format " << format);
        VaultFixture v;
        std::string pass = random_marker("tazpod-pass-");
        std::string archive = v.dir / "vault.tar.aes";
        make_archive(archive, pass, {{"format", format}, {"entries", good_entries(pass)}});
        auto r = import_tazpod(v, archive, pass);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(v.get("a/b/c.txt").out == "nested\n");
        CHECK(v.get("ssh/id_ed25519").out == kPem);
        CHECK(v.get("bin/blob").out == binary_value());
        CHECK(v.get(kLongPath).out == "long-path-value");
        CHECK(r.out.find("imported 4 file(s)") != std::string::npos);
        CHECK(r.out.find(kLongPath) != std::string::npos);
        CHECK_FALSE(contains(r.out + r.err, pass));
        CHECK_FALSE(contains(r.out + r.err, "OPENSSH PRIVATE"));
    }
}

TEST_CASE("import tazpod leaves .vault_pass out and says so", "[import]") {
    TazpodFixture t;
    const VaultFixture& v = t.v;
    auto r = t.import();
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("left out .vault_pass") != std::string::npos);
    auto list = listing(v);
    REQUIRE(list.size() == 4);
    std::map<std::string, std::string> modes;
    for (const auto& e : list) {
        CHECK(e["kind"] == "file");
        CHECK(e["source"] == "tazpod:" + (v.dir / "vault.tar.aes"));
        modes[e["name"]] = e["mode"];
    }
    CHECK(modes.count(".vault_pass") == 0);
    CHECK(modes == std::map<std::string, std::string>{
                       {"a/b/c.txt", "0600"}, {"ssh/id_ed25519", "0400"}, {"bin/blob", "0700"}, {kLongPath, "0600"}});
}

TEST_CASE("hostile TazPod entries refuse the whole import, each named, and the vault is unchanged", "[import]") {
    VaultFixture v;
    REQUIRE(v.set("existing", "kept").exit_code == 0);
    std::string pass = random_marker("tazpod-pass-");
    json entries = good_entries(pass);
    for (json e : {file_entry("../x", "escape"), file_entry("/etc/x", "absolute"), other_entry("link", "symlink", "/etc/shadow"),
                   other_entry("hard", "hardlink", "a/b/c.txt"), other_entry("pipe", "fifo"), other_entry("tty", "chardev"),
                   file_entry("esc\x1b[2J", "terminal escape in a name")})
        entries.push_back(e);
    make_archive(v.dir / "hostile.aes", pass, {{"entries", entries}});
    auto before = vault_state(v);
    auto r = import_tazpod(v, v.dir / "hostile.aes", pass);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("7 unsafe or unsupported entries, nothing imported") != std::string::npos);
    for (const char* line : {"../x: a path containing '..'", "/etc/x: an absolute path", "link: a symbolic link",
                             "hard: a hard link", "pipe: a FIFO", "tty: a character device",
                             "esc\\x1b[2J: not a valid secret name: character '\\x1b' is not allowed"})
        CHECK(r.err.find(line) != std::string::npos);
    CHECK(r.err.find('\x1b') == std::string::npos);  // names reach the terminal escaped
    CHECK(r.err.find("--skip-unsafe") != std::string::npos);
    CHECK(vault_state(v) == before);

    auto skipped = import_tazpod(v, v.dir / "hostile.aes", pass, {"--skip-unsafe"});
    INFO(skipped.err);
    REQUIRE(skipped.exit_code == 0);
    CHECK(skipped.err.find("skipped 7 unsafe or unsupported entries") != std::string::npos);
    CHECK(skipped.err.find("../x: a path containing '..'") != std::string::npos);
    std::set<std::string> names;
    for (const auto& e : listing(v)) names.insert(e["name"].get<std::string>());
    CHECK(names == std::set<std::string>{"existing", "a/b/c.txt", "ssh/id_ed25519", "bin/blob", kLongPath});
    CHECK(v.get("existing").out == "kept");
}

TEST_CASE("a wrong TazPod passphrase exits 3 and leaves the vault unchanged", "[import]") {
    TazpodFixture t;
    REQUIRE(t.v.set("existing", "kept").exit_code == 0);
    auto before = vault_state(t.v);
    auto r = import_tazpod(t.v, t.archive, t.pass + "x");
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("wrong TazPod passphrase or damaged archive") != std::string::npos);
    CHECK(r.err.find(t.archive) != std::string::npos);
    CHECK_FALSE(contains(r.out + r.err, t.pass));
    CHECK(vault_state(t.v) == before);
}

TEST_CASE("a truncated TazPod archive is refused with a clear error and nothing written", "[import]") {
    TazpodFixture t;
    std::size_t size = read_text(t.archive).size();
    make_archive(t.v.dir / "cut.aes", t.pass, {{"entries", good_entries(t.pass)}, {"truncate", size - 100}});
    make_archive(t.v.dir / "stub.aes", t.pass, {{"entries", good_entries(t.pass)}, {"truncate", 40}});
    auto before = vault_state(t.v);
    auto cut = import_tazpod(t.v, t.v.dir / "cut.aes", t.pass);
    CHECK(cut.exit_code == 3);
    CHECK(cut.err.find("damaged archive") != std::string::npos);
    auto stub = import_tazpod(t.v, t.v.dir / "stub.aes", t.pass);
    CHECK(stub.exit_code == 3);
    CHECK(stub.err.find("only 40 bytes") != std::string::npos);
    CHECK(stub.err.find("truncated") != std::string::npos);
    CHECK(vault_state(t.v) == before);
}

TEST_CASE("imported names already in the vault are refused unless --overwrite", "[import]") {
    TazpodFixture t;
    REQUIRE(t.v.set("a/b/c.txt", "older").exit_code == 0);
    auto before = vault_state(t.v);
    auto r = t.import();
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("already in the vault") != std::string::npos);
    CHECK(r.err.find("a/b/c.txt") != std::string::npos);
    CHECK(r.err.find("--overwrite") != std::string::npos);
    CHECK(vault_state(t.v) == before);
    REQUIRE(t.import({"--overwrite"}).exit_code == 0);
    CHECK(t.v.get("a/b/c.txt").out == "nested\n");
}

TEST_CASE("the TazPod and vault passphrases may come one line each on one descriptor", "[import]") {
    TazpodFixture t;
    RunOptions o = t.v.options();
    o.fd_data[3] = t.pass + "\n" + t.v.passphrase + "\n";
    auto r = t.v.gp_with({"import", "tazpod", t.archive, "--tazpod-passphrase-fd", "3"}, o);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(t.v.get("a/b/c.txt").out == "nested\n");
}

TEST_CASE("import dotenv stores each variable as an env entry, values exact", "[import]") {
    VaultFixture v;
    std::string token = random_marker("token-");
    write_text(v.dir / ".env", "# app settings\r\n"
                               "API_TOKEN=replaced-below\n"
                               "export API_TOKEN=" + token + "   # from the dashboard\n"
                               "DB_URL='postgres://u:p@h/db?x=1#frag'\n"
                               "TLS_KEY=\"" + kPem + "\"\n"
                               "GREETING=\"tab\\there\\nnext\"\n"
                               "PLAIN=$HOME\n");
    auto r = v.gp({"import", "dotenv", v.dir / ".env"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("imported 5 variable(s)") != std::string::npos);
    CHECK(r.err.find("\"env_value\": true") != std::string::npos);
    CHECK_FALSE(contains(r.out + r.err, token));
    CHECK(v.get("API_TOKEN").out == token);
    CHECK(v.get("DB_URL").out == "postgres://u:p@h/db?x=1#frag");
    CHECK(v.get("TLS_KEY").out == kPem);
    CHECK(v.get("GREETING").out == "tab\there\nnext");
    CHECK(v.get("PLAIN").out == "$HOME");
    for (const auto& e : listing(v)) {
        CHECK(e["kind"] == "env");
        CHECK(e["source"] == "dotenv:" + (v.dir / ".env"));
    }
}

TEST_CASE("a malformed .env is refused by line number, without its text, and nothing written", "[import]") {
    VaultFixture v;
    REQUIRE(v.set("A", "old").exit_code == 0);
    std::string secret = random_marker("leaked-");
    write_text(v.dir / ".env", "A=1\n" + secret + "\n");
    auto before = vault_state(v);
    auto r = v.gp({"import", "dotenv", v.dir / ".env"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("line 2:") != std::string::npos);
    CHECK_FALSE(contains(r.out + r.err, secret));
    CHECK(vault_state(v) == before);

    write_text(v.dir / "ok.env", "A=new\n");
    auto taken = v.gp({"import", "dotenv", v.dir / "ok.env"});
    CHECK(taken.exit_code == 1);
    CHECK(taken.err.find("already in the vault") != std::string::npos);
    REQUIRE(v.gp({"import", "dotenv", v.dir / "ok.env", "--overwrite"}).exit_code == 0);
    CHECK(v.get("A").out == "new");
}

TEST_CASE("an imported .env variable is in the session as a file, and as a variable when mapped", "[import]") {
    VaultFixture v;
    std::string token = random_marker("token-");
    write_text(v.dir / ".env", "API_TOKEN=" + token + "\n");
    REQUIRE(v.gp({"import", "dotenv", v.dir / ".env"}).exit_code == 0);
    write_text(v.dir / "config.json", R"({"version": 1, "secrets": {"API_TOKEN": {"env": "API_TOKEN", "env_value": true}}})");
    RunOptions unmapped = v.options();
    auto plain = v.gp_with({"run", "--", "sh", "-c", "printf '%s|' \"${API_TOKEN-unset}\"; cat \"$GHOSTPOD_DIR/API_TOKEN\""}, unmapped);
    INFO(plain.err);
    CHECK(plain.exit_code == 0);
    CHECK(plain.out == "unset|" + token);
    RunOptions mapped = v.options();
    mapped.env["GHOSTPOD_CONFIG"] = v.dir / "config.json";
    auto r = v.gp_with({"run", "--", "sh", "-c", "printf '%s' \"$API_TOKEN\""}, mapped);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == token);
}

TEST_CASE("an imported TazPod file shows up in the session's ghost", "[import]") {
    TazpodFixture t;
    REQUIRE(t.import().exit_code == 0);
    auto r = t.v.gp({"run", "--", "sh", "-c", "cat \"$GHOSTPOD_DIR/a/b/c.txt\"; test -e \"$GHOSTPOD_DIR/.vault_pass\" || echo absent"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "nested\nabsent\n");
}
