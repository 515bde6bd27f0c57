#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace ghostpod::test {
namespace {

struct Feed {
    int target;
    int read_end;
    int write_end;
    std::string data;
};

int move_high(int fd) {
    int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 100);
    ::close(fd);
    return high;
}

// Prepares pipes for stdin and each extra fd, then forks and execs. Writer threads feed the
// pipes so that inputs larger than a pipe buffer work.
pid_t start(const std::vector<std::string>& argv, const RunOptions& options, int out_fd, int err_fd,
            std::vector<std::thread>& writers) {
    std::vector<Feed> feeds;
    std::map<int, std::string> inputs = options.fd_data;
    if (!options.stdin_data.empty() || options.close_stdin) inputs[0] = options.stdin_data;
    for (auto& [target, data] : inputs) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        feeds.push_back({target, move_high(p[0]), move_high(p[1]), data});
    }
    // Everything the child needs is built before fork: the parent has threads, so the child
    // may only make async-signal-safe calls.
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        std::string entry = *e;
        std::string key = entry.substr(0, entry.find('='));
        if (!options.env.count(key)) env_strings.push_back(entry);
    }
    for (auto& [k, v] : options.env)
        if (!v.empty()) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    int null_in = move_high(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork");
    if (pid == 0) {
        for (auto& f : feeds) ::dup2(f.read_end, f.target);
        if (!inputs.count(0)) ::dup2(null_in, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
        // A new session: no controlling terminal, so ghostpod cannot fall back to /dev/tty.
        ::setsid();
        ::execvpe(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    ::close(null_in);
    for (auto& f : feeds) {
        ::close(f.read_end);
        writers.emplace_back([fd = f.write_end, data = f.data] {
            std::size_t done = 0;
            while (done < data.size()) {
                ssize_t n = ::write(fd, data.data() + done, data.size() - done);
                if (n <= 0) {
                    if (n < 0 && errno == EINTR) continue;
                    break;  // the child closed it or died
                }
                done += static_cast<std::size_t>(n);
            }
            ::close(fd);
        });
    }
    return pid;
}

int decode_status(int status, int& sig) {
    if (WIFSIGNALED(status)) {
        sig = WTERMSIG(status);
        return -1;
    }
    return WEXITSTATUS(status);
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
    ::signal(SIGPIPE, SIG_IGN);
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    // Keep our ends away from the low numbers the child's extra descriptors are moved onto.
    for (int* fd : {&out[0], &out[1], &err[0], &err[1]}) *fd = move_high(*fd);
    std::vector<std::thread> writers;
    pid_t pid = start(argv, options, out[1], err[1], writers);
    ::close(out[1]);
    ::close(err[1]);
    RunResult result;
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_count = 2;
    char buf[65536];
    while (open_count > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_count;
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    for (auto& w : writers) w.join();
    result.exit_code = decode_status(status, result.signal);
    return result;
}

Spawned::Spawned(const std::vector<std::string>& argv, const RunOptions& options) {
    ::signal(SIGPIPE, SIG_IGN);
    int null = move_high(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    std::vector<std::thread> writers;
    pid_ = start(argv, options, null, null, writers);
    ::close(null);
    for (auto& w : writers) w.detach();
}

Spawned::~Spawned() {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        wait();
    }
}

int Spawned::wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    int sig = 0;
    int code = decode_status(status, sig);
    return sig ? -sig : code;
}

void Spawned::kill_now(int sig) { ::kill(pid_, sig); }

std::string ghostpod_binary() {
    if (const char* env = std::getenv("GHOSTPOD_TEST_BINARY")) return env;
    return GHOSTPOD_BINARY;
}

std::string full_program() {
    std::string binary = ghostpod_binary();
    std::string full = binary.substr(0, binary.rfind('/') + 1) + "lib/ghostpod/ghostpod";
    return ::access(full.c_str(), X_OK) == 0 ? full : "";
}

std::string copy_programs(const std::string& dir) {
    namespace fs = std::filesystem;
    fs::copy_file(ghostpod_binary(), dir + "/ghostpod", fs::copy_options::overwrite_existing);
    if (std::string full = full_program(); !full.empty()) {
        fs::path from = fs::path(full).parent_path();
        fs::create_directories(dir + "/lib/ghostpod");
        for (const char* name : {"ghostpod", "ghostpod-net.so"})
            fs::copy_file(from / name, dir + "/lib/ghostpod/" + name, fs::copy_options::overwrite_existing);
        fs::permissions(dir + "/lib", fs::perms(0755));
        fs::permissions(dir + "/lib/ghostpod", fs::perms(0755));
    }
    return dir + "/ghostpod";
}

std::string source_dir() {
    if (const char* env = std::getenv("GHOSTPOD_TEST_SOURCE_DIR")) return env;
    return GHOSTPOD_SOURCE_DIR;
}

std::vector<std::string> gp(const std::string& vault, std::vector<std::string> args) {
    std::vector<std::string> argv = {ghostpod_binary(), "--vault", vault, "--passphrase-fd", "3"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return !needle.empty() && haystack.find(needle) != std::string::npos;
}

}  // namespace ghostpod::test
