// Running the real ghostpod binary (and other programs) from tests: stdin and extra file
// descriptors fed through pipes (never temp files: secrets must not touch the disk even in
// tests), stdout and stderr captured.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace ghostpod::test {

struct RunOptions {
    std::string stdin_data;
    bool close_stdin = false;                 // no stdin at all (EOF) when true and stdin_data empty
    std::map<int, std::string> fd_data;       // extra descriptors, e.g. {3, "passphrase\n"}
    std::map<std::string, std::string> env;   // set (or with empty value: unset) in the child
    std::string cwd;
};

struct RunResult {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;
    std::string out;
    std::string err;
};

RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// A started process whose output is discarded; for kill tests.
class Spawned {
public:
    Spawned(const std::vector<std::string>& argv, const RunOptions& options);
    ~Spawned();
    Spawned(const Spawned&) = delete;
    Spawned& operator=(const Spawned&) = delete;
    pid_t pid() const { return pid_; }
    int wait();  // exit code, or -signal
    void kill_now(int sig);

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
};

std::string ghostpod_binary();
// The full program beside the front, lib/ghostpod/ghostpod below ghostpod_binary()'s directory
// (pod/cli/program.hpp), with its module; "" in a build that is one executable (sanitizers).
std::string full_program();
// Copies the front, and the full program with its module when the build has them, into `dir`
// as a build tree lays them out; returns the copied front (dir/ghostpod).
std::string copy_programs(const std::string& dir);
std::string source_dir();
// argv for ghostpod with the vault and the passphrase on fd 3.
std::vector<std::string> gp(const std::string& vault, std::vector<std::string> args);
// Whether `haystack` contains `needle` (for "no value in the output" checks).
bool contains(const std::string& haystack, const std::string& needle);

}  // namespace ghostpod::test
