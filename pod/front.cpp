// The front's own part (see pod/cli/program.hpp): main, and the hand-over to the full program.
//
// The front is linked statically (no dynamic loader runs, so no LD_* variable or library search
// reaches it). The full program is found from the front's own location, never by a search the
// environment can steer: lib/ghostpod/ghostpod below it (a build tree), else where the package
// installs it (GHOSTPOD_FULL_FROM_BIN from the front's directory). open_own_file walks each way
// without following a link and through directories no one else can write, checks the file on
// its descriptor and the front executes that same descriptor: what is checked is what runs.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "pod/cli/dispatch.hpp"
#include "pod/cli/messages.hpp"
#include "pod/cli/program.hpp"
#include "vault/unique_fd.hpp"

#ifndef GHOSTPOD_FULL_FROM_BIN
#define GHOSTPOD_FULL_FROM_BIN "../lib/ghostpod/ghostpod"
#endif

extern "C" void* ghostpod_net_resolve(unsigned long index) noexcept;

namespace ghostpod {
namespace {

char** g_argv = nullptr;

// The full program: first below the front's own directory (a build tree), then where the
// package puts it (GHOSTPOD_FULL_FROM_BIN from the front's directory: its leading "../" steps
// are the start, the rest is walked below it); an error when neither is there or it fails a check.
Result<UniqueFd> open_full_program(std::string& path) {
    std::string dir = own_directory();
    if (dir.empty()) return sys_error("find this program's directory (/proc/self/exe)");
    OwnFile built{dir, "lib/ghostpod/ghostpod"}, installed{dir, GHOSTPOD_FULL_FROM_BIN};
    while (installed.below.rfind("../", 0) == 0) {
        installed.start += "/..";
        installed.below.erase(0, 3);
    }
    return open_own_file({built, installed}, "run", "ghostpod's owner", "find ghostpod's full program",
                         "no program at " + built.display() + " or " + installed.display() +
                             " (one on a way someone else could have laid counts as none)",
                         "reinstall ghostpod (the full program ships with this one)", path);
}

[[noreturn]] void hand_over(const std::string& why) {
    std::string path;
    auto fd = open_full_program(path);
    if (fd) {
        ::syscall(SYS_execveat, fd->get(), "", g_argv, environ, AT_EMPTY_PATH);
        fd = sys_error("run " + path);
    }
    Error e = std::move(fd).error();
    e.what = why + ": " + e.what;
    report(e);
    ::_exit(1);
}

}  // namespace
}  // namespace ghostpod

// The stubs of the module's functions land here (cmake/net_stubs.sh). The front has no module:
// the commands it serves reach none of them (the integration tests run every command through
// the front); should one, the command goes to the full program from its start.
void* ghostpod_net_resolve(unsigned long) noexcept { ghostpod::hand_over("load the network module"); }

int main(int argc, char** argv) {
    ghostpod::g_argv = argv;
    ghostpod::set_hand_over(&ghostpod::hand_over);
    int status = ghostpod::run_cli(argc, argv);
    // Ends without the exit-time destructors and handlers (nothing of the front's needs them:
    // every secret buffer went with its scope), once what is buffered is written: a join's
    // client is on its caller's path until it is gone.
    std::fflush(nullptr);
    ::_exit(status);
}
