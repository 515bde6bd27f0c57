#include "pod/cli/dispatch.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

// Sanitizer builds only. LeakSanitizer's check at exit stops the process's threads with ptrace,
// which the ghost's seccomp filter denies: ghostpod run as a command inside the ghost
// ($GHOSTPOD_DIR set) would end in a LeakSanitizer fatal error. There it checks memory errors
// only; every ghostpod process outside the ghost keeps the leak check (ASAN_OPTIONS, read
// after these defaults, can still set it). This runs before libc has set up the environment
// (getenv sees none yet): /proc/self/environ is read with raw system calls.
extern "C" const char* __asan_default_options() {
    static char environ_text[64 * 1024];
    long fd = ::syscall(SYS_openat, AT_FDCWD, "/proc/self/environ", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    long size = ::syscall(SYS_read, fd, environ_text, sizeof environ_text - 1);
    ::syscall(SYS_close, fd);
    for (long at = 0; size > 0 && at < size; at += static_cast<long>(std::strlen(environ_text + at)) + 1)
        if (std::strncmp(environ_text + at, "GHOSTPOD_DIR=", 13) == 0) return "detect_leaks=0";
    return "";
}
#endif

int main(int argc, char** argv) { return ghostpod::run_cli(argc, argv); }
