// The rules that keep a config (a file in a repository) from becoming code in the ghost, and
// the transport rule and pin of the machine identity: pure functions, checked in-process.
#include <catch2/catch.hpp>

#include "pod/unlock/config.hpp"
#include "pod/unlock/config_rules.hpp"
#include "pod/unlock/identity_pin.hpp"

using namespace ghostpod;

TEST_CASE("every variable the issue names as changing how programs run is refused as a mapping", "[config]") {
    for (const char* name : {"PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "ENV", "PROMPT_COMMAND", "PS1", "PS2", "PS3", "PS4",
                             "IFS", "SHELLOPTS", "BASHOPTS", "CDPATH", "GLOBIGNORE", "PYTHONPATH", "PYTHONSTARTUP", "PERL5LIB",
                             "PERL5OPT", "RUBYOPT", "RUBYLIB", "NODE_OPTIONS", "NODE_PATH", "JAVA_TOOL_OPTIONS", "GIT_SSH_COMMAND",
                             "GIT_EXEC_PATH", "GCONV_PATH", "LOCPATH", "HOSTALIASES", "EDITOR", "VISUAL", "PAGER"}) {
        INFO(name);
        CHECK(refused_variable(name).has_value());
    }
}

TEST_CASE("variables of the same kind are refused by prefix and suffix, case-insensitively", "[config]") {
    for (const char* name : {"HOME", "SHELL", "KUBE_EDITOR", "GIT_PAGER", "MANPAGER", "SOPS_AGE_KEY_CMD", "SSH_ASKPASS", "GNUPGHOME",
                             "JAVA_HOME", "MAKEFLAGS", "GOFLAGS", "LESSOPEN", "XDG_CONFIG_HOME", "npm_config_script_shell",
                             "ld_preload", "GLIBC_TUNABLES", "OPENSSL_CONF", "TF_CLI_CONFIG_FILE", "ZDOTDIR", "LC_ALL",
                             "GHOSTPOD_DIR", "BASH_FUNC_x", "VIMINIT"}) {
        INFO(name);
        CHECK(refused_variable(name).has_value());
    }
}

TEST_CASE("credential variables stay mappable", "[config]") {
    for (const char* name : {"KUBECONFIG", "TALOSCONFIG", "SOPS_AGE_KEY_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ACCESS_KEY_ID",
                             "TF_VAR_infisical_client_secret", "DATABASE_URL", "API_TOKEN", "GITHUB_TOKEN", "VAULT_TOKEN",
                             "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "GOOGLE_APPLICATION_CREDENTIALS"}) {
        INFO(name);
        CHECK_FALSE(refused_variable(name).has_value());
    }
}

TEST_CASE("mapped paths are plain absolute or ~/ paths outside system directories and shell start-up files", "[config]") {
    for (const char* path : {"relative/x", "/proc/self/cwd/./.bin:/usr/bin:/bin", "~/a:b", "~/a/../b", "/a/./b", "//a", "~/a//b",
                             "~/", "/", "~/a/", "/proc/self/environ", "/sys/x", "/dev/shm/x", "/etc/ld.so.preload",
                             "/usr/local/bin/kubectl", "/lib/x.so", "/run/user/1000/x", "~/.bashrc", "~/.profile", "~/.zshenv",
                             "~/.config/fish/config.fish", "/home/u/.bashrc", "~/a\tb", "~/a\nb", "~/a\x7f" "b"}) {
        INFO(path);
        CHECK(refused_ghost_path(path, "/home/u").has_value());
    }
    for (const char* path : {"~/.kube/config", "~/.ssh/id_ed25519", "/home/u/.aws/credentials", "/srv/x", "~/infra/ghost.auto.tfvars",
                             "/home/other/.bashrc", "/tmp/x"}) {
        INFO(path);
        CHECK_FALSE(refused_ghost_path(path, "/home/u").has_value());
    }
}

TEST_CASE("a duration has one cap whether written as text or as seconds", "[config]") {
    CHECK(parse_duration("366d") == kMaxDurationSeconds);
    CHECK_FALSE(parse_duration("367d"));
    CHECK_FALSE(parse_duration(std::to_string(kMaxDurationSeconds + 1)));
    auto config = [](const std::string& ttl) { return parse_config(R"({"session": {"ttl": )" + ttl + "}}", "c.json"); };
    auto huge = config("18446744073709551615");
    REQUIRE_FALSE(huge);
    CHECK(huge.error().code == ErrorCode::usage);
    CHECK(huge.error().describe().find("session.ttl") != std::string::npos);
    CHECK_FALSE(config(std::to_string(kMaxDurationSeconds + 1)));
    CHECK_FALSE(config("\"9999999999h\""));
    REQUIRE(config("31622400"));
    CHECK(config("31622400")->session.ttl_seconds == kMaxDurationSeconds);
}

TEST_CASE("a refused mapping names its key and exits as a usage error", "[config]") {
    auto r = parse_config(R"({"secrets": {"tool": {"env": "BASH_ENV"}}})", "c.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::usage);
    CHECK(r.error().describe().find("\"secrets.tool.env\"") != std::string::npos);
    auto p = parse_config(R"({"infisical": {"secrets": {"K": {"path": "~/x\ty"}}}})", "c.json");
    REQUIRE_FALSE(p);
    CHECK(p.error().describe().find("\"infisical.secrets.K.path\"") != std::string::npos);
}

TEST_CASE("plain http is accepted only to loopback addresses", "[pin]") {
    for (const char* url : {"http://127.0.0.1:8080/api", "http://127.3.4.5/api", "http://localhost:1/api", "http://[::1]:9/api",
                            "https://infisical.example.com/api", "https://10.0.0.1/api"}) {
        INFO(url);
        CHECK(check_transport(url, "k"));
    }
    for (const char* url : {"http://10.0.0.1/api", "http://0.0.0.0:1/api", "http://127.0.0.1.example.com/api",
                            "http://[::ffff:127.0.0.1]/api", "http://user@127.0.0.1/api", "ftp://127.0.0.1/api", "not a url"}) {
        INFO(url);
        auto r = check_transport(url, "k");
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::usage);
    }
}

TEST_CASE("a pin compares canonical URLs and refuses another host, port or CA", "[pin]") {
    CHECK(canonical_url("HTTPS://Infisical.Example.com:443/api/", "k").value() == "https://infisical.example.com/api");
    IdentityPin pin;
    pin.backend = "infisical";
    pin.base_url = "https://infisical.example.com/api";
    CHECK(check_pin(pin, "https://INFISICAL.example.com:443/api", "", "hint"));
    for (const char* other : {"https://evil.example.com/api", "https://infisical.example.com:8443/api", "http://infisical.example.com/api",
                              "https://infisical.example.com/other"}) {
        INFO(other);
        auto r = check_pin(pin, other, "", "ghostpod identity set --host X");
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::usage);
        CHECK(r.error().hint.find("identity set --host") != std::string::npos);
    }
    pin.ca_sha256 = {"AB:CD"};
    CHECK_FALSE(check_pin(pin, "https://infisical.example.com/api", "", "hint"));  // the system's CAs are not the pinned CA
}

TEST_CASE("a pass_env pattern never lets a refused variable through", "[config]") {
    for (const char* entry : {"LD_*", "*", "L*", "LD_PRE*", "GHOSTPOD_*", "XDG_*", "TF_CLI_*", "LD_PRELOAD", "PATH", "_*", "KUBE_X=", "A*B_*"}) {
        INFO(entry);
        CHECK(refused_pass_env(entry));
    }
    for (const char* entry : {"KUBE_*", "TF_*", "AWS_*", "VAULT_ADDR", "http_proxy"}) {
        INFO(entry);
        CHECK_FALSE(refused_pass_env(entry));
    }
    CHECK(pass_env_allows("KUBE_*", "KUBE_CONTEXT"));
    CHECK_FALSE(pass_env_allows("KUBE_*", "KUBE_EDITOR"));  // *EDITOR runs a program
    CHECK(pass_env_allows("TF_*", "TF_LOG"));
    CHECK_FALSE(pass_env_allows("TF_*", "TF_CLI_ARGS"));
    CHECK_FALSE(pass_env_allows("TF_*", "TF_PLUGIN_CACHE_DIR"));
    CHECK_FALSE(pass_env_allows("LD_*", "LD_PRELOAD"));
    CHECK_FALSE(pass_env_allows("KUBE_*", "KUBECONFIG"));
    CHECK_FALSE(pass_env_allows("VAULT_ADDR", "VAULT_ADDRESS"));
}

TEST_CASE("session.pass_env and a mapping's mode are read and checked", "[config]") {
    auto ok = parse_config(R"({"session": {"pass_env": ["KUBE_*", "VAULT_ADDR"]}, "secrets": {"k": {"path": "~/k", "mode": "0600"}}})", "c.json");
    REQUIRE(ok);
    CHECK(ok->session.pass_env == std::vector<std::string>{"KUBE_*", "VAULT_ADDR"});
    CHECK(ok->secrets["k"].mode == std::optional<std::uint16_t>(0600));
    auto bad = parse_config(R"({"session": {"pass_env": ["LD_*"]}})", "c.json");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::usage);
    CHECK(bad.error().describe().find("session.pass_env") != std::string::npos);
    auto mode = parse_config(R"({"secrets": {"k": {"path": "~/k", "mode": "0644"}}})", "c.json");
    REQUIRE_FALSE(mode);
    CHECK(mode.error().describe().find("\"secrets.k.mode\"") != std::string::npos);
}
