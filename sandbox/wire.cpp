#include "sandbox/wire.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "sandbox/fdpass.hpp"

namespace ghostpod::wire {

void Writer::u16(std::uint16_t v) {
    std::uint8_t b[2];
    put_u16(b, v);
    out_.insert(out_.end(), b, b + 2);
}

void Writer::u32(std::uint32_t v) {
    std::uint8_t b[4];
    put_u32(b, v);
    out_.insert(out_.end(), b, b + 4);
}

void Writer::u64(std::uint64_t v) {
    std::uint8_t b[8];
    put_u64(b, v);
    out_.insert(out_.end(), b, b + 8);
}

void Writer::bytes(std::span<const std::uint8_t> v) {
    u32(static_cast<std::uint32_t>(v.size()));
    out_.insert(out_.end(), v.begin(), v.end());
}

void Writer::strings(const std::vector<std::string>& list) {
    u32(static_cast<std::uint32_t>(list.size()));
    for (const auto& s : list) str(s);
}

void Writer::error(const Error& e) {
    u8(static_cast<std::uint8_t>(e.code));
    i32(e.errnum);
    str(e.what);
    str(e.why);
    str(e.hint);
}

bool Reader::boolean(bool& v) {
    std::uint8_t b = 0;
    if (!u8(b)) return false;
    if (b > 1) return ok_ = false;
    v = b == 1;
    return true;
}

bool Reader::i32(std::int32_t& v) {
    std::uint32_t u = 0;
    if (!u32(u)) return false;
    v = static_cast<std::int32_t>(u);
    return true;
}

bool Reader::bytes(std::span<const std::uint8_t>& v, std::size_t max) {
    std::uint32_t n = 0;
    if (!u32(n)) return false;
    if (n > max) return ok_ = false;
    return ok_ = in_.span(n, v);
}

bool Reader::str(std::string& v, std::size_t max) {
    std::span<const std::uint8_t> b;
    if (!bytes(b, max)) return false;
    v.assign(reinterpret_cast<const char*>(b.data()), b.size());
    return true;
}

bool Reader::count(std::size_t& n, std::size_t min_bytes, std::size_t max_items) {
    std::uint32_t c = 0;
    if (!u32(c)) return false;
    if (c > max_items || (min_bytes > 0 && c > in_.remaining() / min_bytes)) return ok_ = false;
    n = c;
    return true;
}

bool Reader::strings(std::vector<std::string>& list, std::size_t max_items) {
    std::size_t n = 0;
    if (!count(n, 4, max_items)) return false;
    list.clear();
    list.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::string s;
        if (!str(s)) return false;
        list.push_back(std::move(s));
    }
    return true;
}

bool Reader::error(Error& e) {
    std::uint8_t code = 0;
    if (!u8(code) || !i32(e.errnum) || !str(e.what) || !str(e.why) || !str(e.hint)) return false;
    // An unknown class (a newer peer) is still a failure: a runtime one.
    e.code = code >= 1 && code <= static_cast<std::uint8_t>(kLastErrorCode) ? static_cast<ErrorCode>(code) : ErrorCode::runtime;
    return true;
}

std::vector<std::uint8_t> frame_bytes(std::uint16_t kind, std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> out(kHeaderBytes + payload.size());
    out[0] = kVersion;
    put_u16(out.data() + 1, kind);
    put_u32(out.data() + 3, static_cast<std::uint32_t>(payload.size()));
    std::copy(payload.begin(), payload.end(), out.begin() + kHeaderBytes);
    return out;
}

bool parse_header(std::span<const std::uint8_t> bytes, std::uint16_t& kind, std::uint32_t& length, std::size_t max) {
    if (bytes.size() < kHeaderBytes || bytes[0] != kVersion) return false;
    kind = get_u16(bytes.data() + 1);
    length = get_u32(bytes.data() + 3);
    return length <= max;
}

Error malformed(const std::string& what) {
    return make_error(ErrorCode::runtime, "read " + what, "the message is malformed or from another ghostpod version",
                      "if ghostpod was upgraded while a session ran, end it with 'ghostpod lock' and start a new one");
}

Status send_frame(int socket, std::uint16_t kind, std::span<const std::uint8_t> payload, const std::vector<int>& fds) {
    if (payload.size() > kMaxFrameBytes) return make_error(ErrorCode::runtime, "send a message", "larger than the frame limit");
    constexpr std::size_t kFirst = sandbox::kMaxMessageBytes - kHeaderBytes;
    std::size_t first = std::min(payload.size(), kFirst);
    auto head = frame_bytes(kind, payload.first(first));
    // The header says the whole length; only the first part follows it in this message.
    put_u32(head.data() + 3, static_cast<std::uint32_t>(payload.size()));
    GP_TRY(sandbox::send_message(socket, head, fds));
    for (std::size_t pos = first; pos < payload.size();) {
        std::size_t n = std::min(payload.size() - pos, sandbox::kMaxMessageBytes);
        GP_TRY(sandbox::send_message(socket, payload.subspan(pos, n)));
        pos += n;
    }
    return {};
}

Result<std::optional<Frame>> receive_frame(int socket, std::vector<UniqueFd>* fds, std::size_t max) {
    std::vector<std::uint8_t> message;
    GP_TRY(sandbox::receive_message(socket, message, fds));
    if (message.empty()) return std::optional<Frame>{};
    Frame f;
    std::uint32_t length = 0;
    if (!parse_header(message, f.kind, length, max)) return malformed("a message from another ghostpod process");
    // send_frame puts as much as fits in the first message: a frame that would have fit, sent
    // short, is not ours (and waiting for the rest would let a peer stall us).
    constexpr std::size_t kFirst = sandbox::kMaxMessageBytes - kHeaderBytes;
    if (message.size() - kHeaderBytes != std::min<std::size_t>(length, kFirst)) return malformed("a message from another ghostpod process");
    f.payload.reserve(length);
    f.payload.assign(message.begin() + kHeaderBytes, message.end());
    while (f.payload.size() < length) {
        GP_TRY(sandbox::receive_message(socket, message));
        if (message.empty()) return make_error(ErrorCode::runtime, "receive a message", "the peer closed the connection mid-message");
        if (message.size() > length - f.payload.size()) return malformed("a message from another ghostpod process");
        f.payload.insert(f.payload.end(), message.begin(), message.end());
    }
    return std::optional<Frame>(std::move(f));
}

Status write_frame(int fd, std::uint16_t kind, std::span<const std::uint8_t> payload) {
    return write_all(fd, frame_bytes(kind, payload), "write a message");
}

namespace {

// Reads exactly n bytes; returns how many arrived before EOF.
Result<std::size_t> read_exact(int fd, std::uint8_t* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
        ssize_t got = ::read(fd, out + done, n - done);
        if (got < 0) {
            if (errno == EINTR) continue;
            return sys_error("read a message");
        }
        if (got == 0) break;
        done += static_cast<std::size_t>(got);
    }
    return done;
}

}  // namespace

Result<std::optional<Frame>> read_frame(int fd, std::size_t max) {
    std::uint8_t head[kHeaderBytes];
    auto got = read_exact(fd, head, sizeof head);
    if (!got) return std::move(got).error();
    if (*got == 0) return std::optional<Frame>{};
    Frame f;
    std::uint32_t length = 0;
    if (*got < sizeof head || !parse_header(head, f.kind, length, max)) return malformed("a message from another ghostpod process");
    f.payload.resize(length);
    got = read_exact(fd, f.payload.data(), length);
    if (!got) return std::move(got).error();
    if (*got < length) return make_error(ErrorCode::runtime, "read a message", "it ended early");
    return std::optional<Frame>(std::move(f));
}

}  // namespace ghostpod::wire
