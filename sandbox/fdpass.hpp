// Raw messages with attached descriptors over SOCK_SEQPACKET unix sockets (namespace, directory
// and stdio fds travel as SCM_RIGHTS). Only sandbox/wire.* frames typed messages on top of this.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {

inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;
inline constexpr std::size_t kMaxPassedFds = 8;

Status send_message(int socket, std::span<const std::uint8_t> bytes, const std::vector<int>& fds = {});
// Empty `bytes` with no error means the peer closed the connection.
Status receive_message(int socket, std::vector<std::uint8_t>& bytes, std::vector<UniqueFd>* fds = nullptr);

}  // namespace ghostpod::sandbox
