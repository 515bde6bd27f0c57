// Messages with attached descriptors over SOCK_SEQPACKET unix sockets: the holder talks to
// ghost init and to clients this way (namespace and directory fds travel as SCM_RIGHTS).
#pragma once

#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {

inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;
inline constexpr std::size_t kMaxPassedFds = 8;

Status send_message(int socket, const std::string& text, const std::vector<int>& fds = {});
// An empty text with no error means the peer closed the connection.
Status receive_message(int socket, std::string& text, std::vector<UniqueFd>* fds = nullptr);

}  // namespace ghostpod::sandbox
