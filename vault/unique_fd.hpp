// UniqueFd owns one file descriptor; plus the read/write loops every module needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vault/result.hpp"

namespace ghostpod {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// The bytes of non-secret text, for write_all and friends.
inline std::span<const std::uint8_t> text_bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Writes every byte, retrying on EINTR and short writes. errno-style failures carry `what`.
Status write_all(int fd, std::span<const std::uint8_t> bytes, const std::string& what);
// Reads up to EOF into `out` (not for secrets: use SecretBuffer::read_fd for those).
Status read_to_end(int fd, std::vector<std::uint8_t>& out, std::size_t max_bytes, const std::string& what);
Result<std::vector<std::uint8_t>> read_file(const std::string& path, std::size_t max_bytes);

}  // namespace ghostpod
