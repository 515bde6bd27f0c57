#include "tests/support/proc_probe.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/process.hpp"

namespace ghostpod::test {
namespace {

// Run as a child of the test: what a process of the same uid gets (see reach()).
const char* kReachProbe = R"PY(
import ctypes, os, sys
pid, rel = sys.argv[1], sys.argv[2]
for name, path in (("root", "/proc/%s/root/%s" % (pid, rel)), ("mem", "/proc/%s/mem" % pid), ("environ", "/proc/%s/environ" % pid)):
    try:
        os.close(os.open(path, os.O_RDONLY))
        print(name, "open")
    except OSError as e:
        print(name, "err%d" % e.errno)
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(0x4206, int(pid), 0, 0)  # PTRACE_SEIZE: no stop; detached when this exits
print("ptrace", "open" if r == 0 else "err%d" % ctypes.get_errno())
)PY";

}  // namespace

std::string mode_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return "missing";
    std::ostringstream s;
    s << std::oct << (st.st_mode & 07777);
    return s.str();
}

std::string core_limit_of(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Max core file size", 0) != 0) continue;
        std::istringstream fields(line.substr(18));
        std::string soft, hard;
        fields >> soft >> hard;
        return soft + " " + hard;
    }
    return "unreadable";
}

std::string reach(long pid, const std::string& path_inside) {
    auto r = run({"python3", "-c", kReachProbe, std::to_string(pid), path_inside.substr(1)});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

int connect_errno(const std::string& socket_path) {
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    int err = rc == 0 ? 0 : errno;
    ::close(fd);
    return err;
}

bool mount_namespace_in_use(const std::string& ns) {
    for (auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::error_code ec;
        auto link = std::filesystem::read_symlink(entry.path() / "ns/mnt", ec);
        if (!ec && link.string() == ns) return true;
    }
    return false;
}

std::vector<std::size_t> occurrences_in_memory(long pid, const std::vector<std::string>& needles) {
    std::vector<std::size_t> counts(needles.size(), 0);
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::ifstream mem("/proc/" + std::to_string(pid) + "/mem", std::ios::binary);
    REQUIRE(maps);
    REQUIRE(mem);
    std::string line;
    while (std::getline(maps, line)) {
        std::istringstream fields(line);
        std::string range, perms;
        fields >> range >> perms;
        if (perms[0] != 'r' || line.find("[vvar]") != std::string::npos) continue;
        unsigned long start = std::stoul(range.substr(0, range.find('-')), nullptr, 16);
        unsigned long end = std::stoul(range.substr(range.find('-') + 1), nullptr, 16);
        std::string bytes(end - start, '\0');
        mem.clear();
        mem.seekg(static_cast<std::streamoff>(start));
        mem.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        bytes.resize(static_cast<std::size_t>(mem.gcount()));
        for (std::size_t i = 0; i < needles.size(); ++i)
            for (auto at = bytes.find(needles[i]); at != std::string::npos; at = bytes.find(needles[i], at + 1)) ++counts[i];
    }
    return counts;
}

}  // namespace ghostpod::test
