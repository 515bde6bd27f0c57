// The messages sandbox processes exchange, each a struct with one encoder and one decoder over
// sandbox/wire.*: the holder and ghost init (placements, spawning a profile's command), and a
// client and the profile command ghost init spawned for it. An error travels as wire::kError.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sandbox/mounts.hpp"
#include "sandbox/wire.hpp"

namespace ghostpod::sandbox {

// The one encoding of an Error, on every channel: kind wire::kError, payload Writer::error.
inline constexpr std::uint16_t kErrorKind = 0xffff;
std::vector<std::uint8_t> encode_error(const Error& e);
bool decode_error(std::span<const std::uint8_t> payload, Error& e);
Status send_error(int socket, const Error& e);

// ---- holder <-> ghost init --------------------------------------------------------------
enum class InitKind : std::uint16_t {
    ready = 1,  // ghost init is up; fds: root dir, mnt, pid, ipc[, user]
    place,      // PlaceRequest
    unplace,    // UnplaceRequest
    spawn,      // SpawnRequest; fds: stdin, stdout, stderr, control, command
    done,       // a request succeeded (no payload)
    spawned,    // the profile's view stands; fd: its mount namespace
    list_ghost_only,  // no payload: which files exist in the shadowed directories only
    ghost_only,       // GhostOnlyFiles
};

struct PlaceRequest {
    std::string source;  // a path in the RAM mount
    std::string target;  // absolute
};
struct UnplaceRequest {
    std::string target;
};
// A command in a profile's view, built by ghost init (which holds the privileges in the ghost
// that the command's caller lacks). The command line and environment do not pass through ghost
// init: the command reads them from the `command` pipe, written by the client.
struct SpawnRequest {
    ProfileView view;
};

struct GhostOnlyFiles {
    std::vector<std::string> paths;
};

std::vector<std::uint8_t> encode(const GhostOnlyFiles& m);
bool decode(std::span<const std::uint8_t> payload, GhostOnlyFiles& m);
std::vector<std::uint8_t> encode(const PlaceRequest& m);
std::vector<std::uint8_t> encode(const UnplaceRequest& m);
std::vector<std::uint8_t> encode(const SpawnRequest& m);
bool decode(std::span<const std::uint8_t> payload, PlaceRequest& m);
bool decode(std::span<const std::uint8_t> payload, UnplaceRequest& m);
bool decode(std::span<const std::uint8_t> payload, SpawnRequest& m);

// ---- client <-> a spawned profile command ------------------------------------------------
enum class CommandKind : std::uint16_t {
    command = 1,  // CommandHeader, on the command pipe, followed by env_bytes of environment
    signal,       // SignalMessage, client -> the command's init (forwarded to the command)
    exited,       // ExitMessage, the command's init -> client; an error frame may come first
};

// What to run. The environment (which may hold secret values) follows the frame on the pipe as
// env_bytes raw bytes of NUL-terminated NAME=value entries, read straight into secret memory.
struct CommandHeader {
    std::vector<std::string> argv;
    std::string cwd;
    std::uint64_t env_bytes = 0;
};
struct SignalMessage {
    std::int32_t signo = 0;
};
struct ExitMessage {
    std::int32_t status = 0;  // as the client exits: the code, or 128+N for signal N
};

inline constexpr std::uint64_t kMaxEnvironmentBytes = 16u << 20;

std::vector<std::uint8_t> encode(const CommandHeader& m);
std::vector<std::uint8_t> encode(const SignalMessage& m);
std::vector<std::uint8_t> encode(const ExitMessage& m);
bool decode(std::span<const std::uint8_t> payload, CommandHeader& m);
bool decode(std::span<const std::uint8_t> payload, SignalMessage& m);
bool decode(std::span<const std::uint8_t> payload, ExitMessage& m);

}  // namespace ghostpod::sandbox
