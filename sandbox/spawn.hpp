// A command in a profile's view that ghost init starts for a caller without the privileges to
// build the view itself (ghostpod run --profile P from a command in the ghost, which has no
// capabilities). Three processes, top to bottom:
//   ghost init's child: a mount namespace of its own, the profile's view (build_profile_view),
//     its mount namespace handed back (the holder recognises the profile's processes by it),
//     a pid namespace for its children; then it exits.
//   the profile's init (pid 1 there): a fresh /proc; relays the caller's signals to the command
//     over the control socket and reports its exit; when the caller goes, it goes, and with it
//     every process in the profile.
//   the command: the caller's stdin, stdout and stderr; the command line and environment read
//     from the command pipe (which only the caller writes: secret values in the environment
//     never pass through the holder or ghost init); then the usual pre-exec sequence.
// The caller's side: send_command (the pipe), relay_spawned (signals in, exit status out).
//
// Where a pseudo-terminal of the command's own would plug in: the caller passes the pty's slave
// as the three stdio descriptors; the command would make it its controlling terminal (setsid,
// TIOCSCTTY) before exec_command.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "sandbox/messages.hpp"
#include "sandbox/mounts.hpp"
#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {

// stdin, stdout, stderr, control (a SOCK_SEQPACKET socket), command (a pipe's read end).
inline constexpr std::size_t kSpawnFds = 5;

// In ghost init: starts the command; returns the profile's mount namespace once its view stands.
Result<UniqueFd> spawn_in_profile(const ProfileView& view, RamKind ram, std::vector<UniqueFd>& fds);

// The caller: writes the command line and environment (NUL-terminated NAME=value entries) to the
// command pipe and closes it.
Status send_command(UniqueFd command, const std::vector<std::string>& argv, const std::string& cwd,
                    std::span<const std::uint8_t> environment);
// The caller: forwards SIGINT, SIGQUIT, SIGTERM and SIGHUP to the command until it ends and
// returns its status (128+N for signal N; 137 when the profile ended without saying, as when
// the session is locked). An error the command reports (it could not be run) goes to `on_error`.
int relay_spawned(int control, const std::function<void(const Error&)>& on_error);

}  // namespace ghostpod::sandbox
