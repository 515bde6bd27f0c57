#include "tests/support/infisical_server.hpp"

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
#include <sstream>
#include <thread>

#include "tests/support/process.hpp"

namespace ghostpod::test {
namespace {

using namespace std::chrono_literals;

// A CA and a certificate for IP:127.0.0.1 signed by it, made once per test process.
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
                 "-out", "ca.pem", "-days", "3", "-subj", "/CN=ghostpod test CA", "-addext",
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

FakeInfisical::FakeInfisical(const std::string& world_json, FakeInfisicalOptions options) : options_(std::move(options)) {
    ::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> argv = {"python3", source_dir() + "/tests/support/fake_infisical.py", "--world", "/dev/stdin",
                                     "--ready-file", dir_ / "ready", "--log", dir_ / "requests.log",
                                     "--lockout-seconds", std::to_string(options_.lockout_seconds)};
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

    auto deadline = std::chrono::steady_clock::now() + 10s;
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
            INFO("fake_infisical.py did not start: " << read_text(err_path));
            FAIL("the fake Infisical server is not ready");
        }
        std::this_thread::sleep_for(10ms);
    }
    port_ = std::stoi(read_text(dir_ / "ready"));
}

FakeInfisical::~FakeInfisical() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!reap(pid_, 3s)) {
        ::kill(pid_, SIGKILL);
        reap(pid_, 10s);
    }
}

std::string FakeInfisical::url() const {
    return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::string FakeInfisical::ca_path() const { return certificates() / "ca.pem"; }

nlohmann::json FakeInfisical::admin(const std::string& method, const std::string& route, const std::string& body) const {
    std::vector<std::string> argv = {"curl", "-sS", "--fail-with-body", "--noproxy", "*", "--max-time", "20", "-X", method};
    if (options_.tls) argv.insert(argv.end(), {"--cacert", ca_path()});
    RunOptions o;
    if (!body.empty()) {
        // The body (a world holds secret values) goes through stdin, not argv.
        argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", "@-"});
        o.stdin_data = body;
    }
    o.close_stdin = true;
    argv.push_back(url() + "/__admin/" + route);
    auto r = run(argv, o);
    INFO("curl " << method << " /__admin/" << route << ": " << r.err << r.out);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

void FakeInfisical::set_faults(const std::vector<std::string>& faults) const {
    admin("POST", "faults", nlohmann::json{{"faults", faults}}.dump());
}

void FakeInfisical::set_world(const std::string& world_json) const { admin("POST", "world", world_json); }

nlohmann::json FakeInfisical::tokens() const { return admin("GET", "tokens"); }

nlohmann::json FakeInfisical::log() const {
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
