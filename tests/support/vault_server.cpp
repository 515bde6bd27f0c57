#include "tests/support/vault_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "tests/support/process.hpp"

namespace ghostpod::test {
namespace {

using namespace std::chrono_literals;

// A CA and a certificate for IP:127.0.0.1 signed by it, made once per test process. (Its own
// copy, not infisical_server.cpp's: the two wrappers stay independent of each other.)
const TempDir& certificates() {
    static std::unique_ptr<TempDir> dir;
    static std::once_flag once;
    std::call_once(once, [] {
        auto d = std::make_unique<TempDir>();
        auto openssl = [&](std::vector<std::string> args) {
            args.insert(args.begin(), "openssl");
            RunOptions o;
            o.cwd = d->path();
            auto r = run(args, o);
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
        };
        write_text(*d / "server.ext",
                   "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\n"
                   "extendedKeyUsage = serverAuth\n");
        openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
                 "-out", "ca.pem", "-days", "3", "-subj", "/CN=ghostpod test Vault TLS CA", "-addext",
                 "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
        openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
                 "-out", "server.csr", "-subj", "/CN=127.0.0.1"});
        openssl({"x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "3",
                 "-extfile", "server.ext", "-out", "server.pem"});
        dir = std::move(d);
    });
    return *dir;
}

bool reap(pid_t pid, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
}

}  // namespace

FakeVault::FakeVault(const std::string& world_json, FakeVaultOptions options) : options_(std::move(options)) {
    ::signal(SIGPIPE, SIG_IGN);
    // --tmp-dir: the PKI CAs live under dir_, so even a SIGKILLed server leaves nothing behind.
    std::vector<std::string> argv = {"python3", source_dir() + "/tests/support/fake_vault.py", "--world", "/dev/stdin",
                                     "--ready-file", dir_ / "ready", "--log", dir_ / "requests.log",
                                     "--tmp-dir", dir_.path()};
    if (options_.tls) {
        const TempDir& certs = certificates();
        argv.insert(argv.end(), {"--tls-cert", certs / "server.pem", "--tls-key", certs / "server.key"});
    }
    for (const auto& f : options_.faults) argv.insert(argv.end(), {"--fault", f});

    // Built before fork: the child of a threaded process may only make async-signal-safe calls.
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::string err_path = dir_ / "server.err";
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(err_fd >= 0);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test leaves no server behind
        if (::getppid() != parent) ::_exit(1);
        ::dup2(p[0], 0);
        ::dup2(err_fd, 1);
        ::dup2(err_fd, 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(p[0]);
    ::close(err_fd);
    // The world goes through the pipe: the server reads it whole before it listens.
    std::size_t done = 0;
    while (done < world_json.size()) {
        ssize_t n = ::write(p[1], world_json.data() + done, world_json.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    ::close(p[1]);

    // Each PKI mount costs an openssl CA at start: allow for worlds with several.
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!std::filesystem::exists(dir_ / "ready")) {
        int status = 0;
        bool died = ::waitpid(pid_, &status, WNOHANG) == pid_;
        if (died) pid_ = -1;
        if (!died && std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            reap(pid_, 10s);
            pid_ = -1;
        }
        if (pid_ < 0) {
            INFO("fake_vault.py did not start: " << read_text(err_path));
            FAIL("the fake Vault server is not ready");
        }
        std::this_thread::sleep_for(10ms);
    }
    port_ = std::stoi(read_text(dir_ / "ready"));
}

FakeVault::~FakeVault() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!reap(pid_, 3s)) {
        ::kill(pid_, SIGKILL);
        reap(pid_, 10s);
    }
}

std::string FakeVault::url() const {
    return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::string FakeVault::ca_path() const { return certificates() / "ca.pem"; }

std::string FakeVault::curl(const std::string& method, const std::string& path, const std::string& body,
                            const std::vector<std::string>& extra) const {
    std::vector<std::string> argv = {"curl", "-sS", "--fail-with-body", "--noproxy", "*", "--max-time", "20", "-X", method};
    if (options_.tls) argv.insert(argv.end(), {"--cacert", ca_path()});
    argv.insert(argv.end(), extra.begin(), extra.end());
    RunOptions o;
    if (!body.empty()) {
        // The body (a world holds secret values) goes through stdin, not argv.
        argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", "@-"});
        o.stdin_data = body;
    }
    o.close_stdin = true;
    argv.push_back(url() + path);
    auto r = run(argv, o);
    INFO("curl " << method << " " << path << ": " << r.err << r.out);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

nlohmann::json FakeVault::admin(const std::string& method, const std::string& route, const std::string& body) const {
    return nlohmann::json::parse(curl(method, "/__admin/" + route, body));
}

std::string FakeVault::pki_ca_path(const std::string& mount, const std::string& ns) const {
    // The CA is public (Vault serves <mount>/ca/pem without a token). The admin route answers the
    // same PEM without using up faults or adding to the request log; the file lives in dir_.
    std::string name = "pki-ca-" + (ns.empty() ? std::string() : ns + "-") + mount + ".pem";
    for (char& c : name) {
        if (c == '/') c = '_';
    }
    std::vector<std::string> extra = {"-G", "--data-urlencode", "mount=" + mount};
    if (!ns.empty()) extra.insert(extra.end(), {"--data-urlencode", "namespace=" + ns});
    std::string pem = curl("GET", "/__admin/pki-ca", {}, extra);
    REQUIRE(pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos);
    write_text(dir_ / name, pem);
    return dir_ / name;
}

void FakeVault::set_faults(const std::vector<std::string>& faults) const {
    admin("POST", "faults", nlohmann::json{{"faults", faults}}.dump());
}

void FakeVault::set_world(const std::string& world_json) const { admin("POST", "world", world_json); }

nlohmann::json FakeVault::tokens() const { return admin("GET", "tokens"); }

nlohmann::json FakeVault::log() const {
    nlohmann::json entries = nlohmann::json::array();
    std::ifstream in(dir_ / "requests.log");
    std::string line;
    while (std::getline(in, line)) {
        auto entry = nlohmann::json::parse(line, nullptr, false);
        if (!entry.is_discarded()) entries.push_back(std::move(entry));  // a line being written
    }
    return entries;
}

}  // namespace ghostpod::test
