// The framing every message between ghostpod's own processes uses: launcher, holder, ghost init,
// clients and the commands ghost init spawns. A message is a typed struct with one encoder and
// one decoder built from these primitives: little-endian integers, strings and byte strings with
// explicit lengths (any byte survives, tabs, newlines and NULs included), every size bounded.
//
// Frame: [u8 version][u16 kind][u32 payload length][payload]. On a SOCK_SEQPACKET socket a frame
// longer than one message continues, unheaded, in the messages that follow (an attach answer
// for 10,000 secrets); descriptors ride on its first message. On a pipe it is one byte stream.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vault/bytes.hpp"
#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::wire {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 7;
// The largest frame anyone accepts: far above an attach answer for 10,000 secrets (~1 MiB).
inline constexpr std::size_t kMaxFrameBytes = 32u << 20;
// The largest single string or byte string inside a frame.
inline constexpr std::size_t kMaxFieldBytes = 1u << 20;
// The most elements a list may claim (each costs at least four bytes of the frame anyway).
inline constexpr std::size_t kMaxListItems = 1u << 20;

class Writer {
public:
    void u8(std::uint8_t v) { out_.push_back(v); }
    void boolean(bool v) { u8(v ? 1 : 0); }
    void u16(std::uint16_t v);
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
    void bytes(std::span<const std::uint8_t> v);
    void str(std::string_view v) { bytes({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()}); }
    void strings(const std::vector<std::string>& list);
    void error(const Error& e);
    const std::vector<std::uint8_t>& data() const { return out_; }
    std::vector<std::uint8_t> take() { return std::move(out_); }

private:
    std::vector<std::uint8_t> out_;
};

// Every read fails (and the reader stays failed) past the end or past a bound.
class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> bytes) : in_(bytes) {}
    bool u8(std::uint8_t& v) { return ok_ = ok_ && in_.u8(v); }
    bool boolean(bool& v);
    bool u16(std::uint16_t& v) { return ok_ = ok_ && in_.u16(v); }
    bool u32(std::uint32_t& v) { return ok_ = ok_ && in_.u32(v); }
    bool u64(std::uint64_t& v) { return ok_ = ok_ && in_.u64(v); }
    bool i32(std::int32_t& v);
    bool bytes(std::span<const std::uint8_t>& v, std::size_t max = kMaxFieldBytes);
    bool str(std::string& v, std::size_t max = kMaxFieldBytes);
    bool strings(std::vector<std::string>& list, std::size_t max_items = kMaxListItems);
    bool error(Error& e);
    // A list's element count, checked against what is left (each element takes >= min_bytes).
    bool count(std::size_t& n, std::size_t min_bytes, std::size_t max_items = kMaxListItems);
    bool ok() const { return ok_; }
    // Decoded exactly: no read failed and nothing is left over.
    bool done() const { return ok_ && in_.remaining() == 0; }

private:
    ByteReader in_;
    bool ok_ = true;
};

struct Frame {
    std::uint16_t kind = 0;
    std::vector<std::uint8_t> payload;
};

// The header and payload of one frame, as bytes (for pipes and tests).
std::vector<std::uint8_t> frame_bytes(std::uint16_t kind, std::span<const std::uint8_t> payload);
// Reads a header; false when it is not one of ours or claims more than `max`.
bool parse_header(std::span<const std::uint8_t> bytes, std::uint16_t& kind, std::uint32_t& length,
                  std::size_t max = kMaxFrameBytes);

Status send_frame(int socket, std::uint16_t kind, std::span<const std::uint8_t> payload, const std::vector<int>& fds = {});
// nullopt: the peer closed the connection before a frame began. `fds` receives what rode on
// the frame's first message (discarded when null).
Result<std::optional<Frame>> receive_frame(int socket, std::vector<UniqueFd>* fds = nullptr, std::size_t max = kMaxFrameBytes);

// The same frame on a byte stream (a pipe): written whole; read to its end.
Status write_frame(int fd, std::uint16_t kind, std::span<const std::uint8_t> payload);
Result<std::optional<Frame>> read_frame(int fd, std::size_t max = kMaxFrameBytes);

// "what: the message is not a <what>" for a frame of an unexpected kind or shape.
Error malformed(const std::string& what);

}  // namespace ghostpod::wire
