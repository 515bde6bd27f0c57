#include "vault/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace ghostpod {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
}

void UniqueFd::reset(int fd) {
    // close() errors on a read-only or already-fsynced fd carry no information we could act on.
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

Status write_all(int fd, std::span<const std::uint8_t> bytes, const std::string& what) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_error(what);
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Status read_to_end(int fd, std::vector<std::uint8_t>& out, std::size_t max_bytes, const std::string& what) {
    std::uint8_t chunk[65536];
    for (;;) {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_error(what);
        }
        if (n == 0) return {};
        if (out.size() + static_cast<std::size_t>(n) > max_bytes)
            return make_error(ErrorCode::runtime, what, "larger than " + std::to_string(max_bytes) + " bytes");
        out.insert(out.end(), chunk, chunk + n);
    }
}

Result<std::vector<std::uint8_t>> read_file(const std::string& path, std::size_t max_bytes) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return sys_error("open " + path);
    std::vector<std::uint8_t> bytes;
    GP_TRY(read_to_end(fd.get(), bytes, max_bytes, "read " + path));
    return bytes;
}

}  // namespace ghostpod
