// Looking at processes and files from outside, as another process of the same uid would:
// modes, /proc limits, what /proc/PID gives away, sockets and mount namespaces.
#pragma once

#include <string>
#include <vector>

namespace ghostpod::test {

// The permission bits of `path` (not following a link) in octal, e.g. "600"; "missing".
std::string mode_of(const std::string& path);
// "Max core file size" of /proc/PID/limits as "SOFT HARD" (readable for any process).
std::string core_limit_of(long pid);
// What another process of our uid gets when it reaches for `pid`, from a python3 child: one
// line each for opening /proc/PID/root + `path_inside` (absolute), /proc/PID/mem and
// /proc/PID/environ, and PTRACE_SEIZE, as "root open" or "root errN" and so on.
std::string reach(long pid, const std::string& path_inside);
// 0 when a SOCK_SEQPACKET unix socket at `socket_path` accepts a connection, else the errno.
int connect_errno(const std::string& socket_path);
// Whether any process we can see is still in the mount namespace `ns` ("mnt:[N]").
bool mount_namespace_in_use(const std::string& ns);
// How many times each needle occurs in the readable memory of `pid` (/proc/PID/maps and
// /proc/PID/mem; a non-dumpable process needs root).
std::vector<std::size_t> occurrences_in_memory(long pid, const std::vector<std::string>& needles);

}  // namespace ghostpod::test
