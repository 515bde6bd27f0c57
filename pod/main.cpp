#include <cstdlib>

#include "pod/cli/dispatch.hpp"

#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds only. LeakSanitizer's check at exit stops the process's threads with ptrace,
// which the ghost's seccomp filter denies: ghostpod run as a command inside the ghost
// ($GHOSTPOD_DIR set) would end in a LeakSanitizer fatal error. There it checks memory errors
// only; every ghostpod process outside the ghost keeps the leak check (ASAN_OPTIONS, read
// after these defaults, can still turn it on or off).
extern "C" const char* __asan_default_options() {
    return std::getenv("GHOSTPOD_DIR") != nullptr ? "detect_leaks=0" : "";
}
#endif

int main(int argc, char** argv) { return ghostpod::run_cli(argc, argv); }
