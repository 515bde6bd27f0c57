// One program with a RAM directory of its own: a child in a new mount namespace (and user
// namespace, unless real root) mounts ramfs (tmpfs with noswap as root) over an empty directory,
// so whatever the program writes there (an editor's file, swap and backup files) is in RAM
// and seen by no other process. The parent reaches the RAM mount through a descriptor of its
// root, which keeps the mount alive after the program exits; closing it frees the memory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {

struct ScratchSpec {
    std::string mount_dir;  // an empty directory; the RAM mount covers it in the child only
    uid_t uid = 0;
    gid_t gid = 0;
    bool real_root = false;
    std::uint64_t ram_limit = 64u << 20;  // the tmpfs size (ramfs has no limit of its own)
    std::vector<std::string> argv;        // run once start() is called
    std::vector<std::string> env;         // NAME=value
};

class ScratchProcess {
public:
    // Forks the child; returns once its RAM mount is ready (it then waits for start()).
    static Result<ScratchProcess> prepare(const ScratchSpec& spec);
    ScratchProcess(ScratchProcess&& other) noexcept;
    ScratchProcess& operator=(ScratchProcess&&) = delete;
    ~ScratchProcess();  // kills and reaps a child that was not waited for

    int root_dir() const { return root_.get(); }
    // The child execs the program.
    Status start();
    // Waits for the program: its exit status, 128+N when killed by signal N.
    Result<int> wait();
    // Overwrites every regular file in the RAM mount with zeros and removes it.
    void wipe();

private:
    ScratchProcess() = default;
    pid_t pid_ = -1;
    UniqueFd channel_, root_;
};

}  // namespace ghostpod::sandbox
