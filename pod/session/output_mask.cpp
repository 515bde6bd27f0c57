#include "pod/session/output_mask.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sodium.h>

#include "vault/payload.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kMaskChunk = 16 * 1024;  // one read of a command's output
constexpr std::size_t kDrainLimit = 1u << 20;  // output still taken after the command exited

}  // namespace

bool write_fully(int fd, const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd, bytes, size);
        if (n > 0) {
            bytes += n;
            size -= static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd writable {fd, POLLOUT, 0};
            (void)::poll(&writable, 1, -1);
        } else if (n < 0 && errno != EINTR) {
            return false;
        }
    }
    return true;
}

Status MaskValues::add(std::span<const std::uint8_t> value) {
    if (!value.empty() && value.back() == '\n') value = value.first(value.size() - 1);
    if (!value.empty() && value.back() == '\r') value = value.first(value.size() - 1);
    if (value.size() < kMinMaskedBytes) return {};
    for (const auto& known : values_)
        if (known.equals(value)) return {};
    auto copy = SecretBuffer::copy_of(value);
    if (!copy) return std::move(copy).error();
    auto at = std::find_if(values_.begin(), values_.end(), [&](const SecretBuffer& v) { return v.size() < value.size(); });
    values_.insert(at, std::move(*copy));
    return {};
}

Result<MaskValues> MaskValues::read(const std::string& dir, const std::vector<std::string>& names) {
    MaskValues values;
    for (const auto& name : names) {
        std::string path = dir + "/" + name;
        // Not a link, not a FIFO something in the ghost put there instead: only the file itself.
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        if (!fd.valid()) {
            if (errno == ENOENT) continue;  // removed meanwhile: nothing of it to show
            return sys_error("open " + path + " to mask its value");
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
            return make_error(ErrorCode::runtime, "read " + path + " to mask its value", "not a regular file");
        auto value = SecretBuffer::read_fd(fd.get(), kMaxValueBytes, "read " + path);
        if (!value) return std::move(value).error();
        GP_TRY(values.add(value->bytes()));
    }
    return values;
}

Result<MaskedStream> MaskedStream::make(const MaskValues& values, int out) {
    auto buffer = SecretBuffer::allocate(kMaskChunk + values.longest());
    if (!buffer) return std::move(buffer).error();
    return MaskedStream(values, out, std::move(*buffer));
}

void MaskedStream::emit(const void* data, std::size_t size) {
    if (size == 0 || !out_open_) return;
    if (!write_fully(out_, data, size)) out_open_ = false;
}

// Writes the held bytes on, each value found replaced by the marker. Unless `final`, a tail
// that is the start of a value stays held (the longest value is checked first at each place).
void MaskedStream::pass_on(bool final) {
    std::uint8_t* b = buffer_.data();
    std::size_t n = held_, start = 0, i = 0;
    bool holding = false;
    while (i < n && !holding) {
        std::size_t matched = 0;
        for (const auto& v : values_->values()) {
            std::size_t len = v.size();
            if (n - i >= len) {
                if (std::memcmp(b + i, v.data(), len) == 0) {
                    matched = len;
                    break;
                }
            } else if (!final && std::memcmp(b + i, v.data(), n - i) == 0) {
                holding = true;
                break;
            }
        }
        if (holding) break;
        if (matched == 0) {
            ++i;
            continue;
        }
        emit(b + start, i - start);
        emit(kConcealedMarker.data(), kConcealedMarker.size());
        i += matched;
        start = i;
    }
    emit(b + start, i - start);
    std::size_t kept = n - i;
    std::memmove(b, b + i, kept);
    sodium_memzero(b + kept, n - kept);
    if (kept == 0) held_since_.reset();
    else if (i > 0 || !held_since_) held_since_ = std::chrono::steady_clock::now();
    held_ = kept;
}

ssize_t MaskedStream::relay_from(int in) {
    ssize_t n = ::read(in, buffer_.data() + held_, kMaskChunk);
    if (n > 0) {
        held_ += static_cast<std::size_t>(n);
        pass_on(false);
    }
    return n;
}

void MaskedStream::flush() {
    if (held_ > 0) pass_on(true);
}

int MaskedStream::due_in_ms() const {
    if (!held_since_) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*held_since_ + kMaskHold - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<std::int64_t>(left.count(), 0));
}

Result<MaskedPipe> make_masked_pipe(const MaskValues& values, int target) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) return sys_error("pipe for the command's masked output");
    MaskedPipe piped;
    piped.target = target;
    piped.read_end.reset(ends[0]);
    piped.write_end.reset(ends[1]);
    if (::fcntl(ends[0], F_SETFL, O_NONBLOCK) != 0) return sys_error("make the masked output's pipe non-blocking");
    auto stream = MaskedStream::make(values, target);
    if (!stream) return std::move(stream).error();
    piped.stream.emplace(std::move(*stream));
    return piped;
}

void pump_masked_pipes(std::vector<MaskedPipe>& pipes, int stop) {
    for (;;) {
        struct pollfd fds[3];
        nfds_t count = 0;
        int timeout = -1;
        for (auto& p : pipes) {
            if (!p.read_end.valid()) continue;
            fds[count++] = {p.read_end.get(), POLLIN, 0};
            int due = p.stream->due_in_ms();
            if (due >= 0 && (timeout < 0 || due < timeout)) timeout = due;
        }
        if (count == 0) return;
        int stop_at = static_cast<int>(count);
        fds[count++] = {stop, POLLIN, 0};
        if (::poll(fds, count, timeout) < 0 && errno != EINTR) break;
        for (nfds_t k = 0; k < static_cast<nfds_t>(stop_at); ++k) {
            if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            for (auto& p : pipes) {
                if (p.read_end.get() != fds[k].fd) continue;
                ssize_t n = p.stream->relay_from(p.read_end.get());
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    p.stream->flush();
                    p.read_end.reset();
                }
            }
        }
        for (auto& p : pipes)
            if (p.read_end.valid() && p.stream->due_in_ms() == 0) p.stream->flush();
        if (fds[stop_at].revents & (POLLIN | POLLHUP)) break;
    }
    drain_masked_pipes(pipes);
}

void drain_masked_pipes(std::vector<MaskedPipe>& pipes) {
    for (auto& p : pipes) {
        if (!p.read_end.valid()) continue;
        for (std::size_t taken = 0; taken < kDrainLimit;) {
            ssize_t n = p.stream->relay_from(p.read_end.get());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            taken += static_cast<std::size_t>(n);
        }
        p.stream->flush();
        p.read_end.reset();
    }
}

}  // namespace ghostpod
