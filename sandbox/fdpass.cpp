#include "sandbox/fdpass.hpp"

#include <sodium.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ghostpod::sandbox {

Status send_message(int socket, std::span<const std::uint8_t> bytes, const std::vector<int>& fds) {
    if (bytes.empty() || bytes.size() > kMaxMessageBytes || fds.size() > kMaxPassedFds)
        return make_error(ErrorCode::runtime, "send message", "invalid size");
    struct iovec iov {const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
    if (!fds.empty()) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    for (;;) {
        if (::sendmsg(socket, &msg, MSG_NOSIGNAL) >= 0) return {};
        if (errno != EINTR) return sys_error("send message");
    }
}

Status receive_message(int socket, std::vector<std::uint8_t>& bytes, std::vector<UniqueFd>* fds) {
    // Received on the stack and copied at its size: a vector of the largest size would be
    // zeroed, faulted in and wiped again at free (64 KiB each way) for a message of a few bytes.
    std::uint8_t buffer[kMaxMessageBytes];
    struct iovec iov {buffer, sizeof buffer};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        bytes.clear();
        return sys_error("receive message");
    }
    bytes.assign(buffer, buffer + n);
    sodium_memzero(buffer, static_cast<std::size_t>(n));  // a message may carry a value (export)
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (fds) fds->emplace_back(fd);
            else UniqueFd discard(fd);
        }
    }
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return make_error(ErrorCode::runtime, "receive message", "truncated");
    return {};
}

}  // namespace ghostpod::sandbox
