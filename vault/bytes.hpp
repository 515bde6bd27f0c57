// Little-endian field readers and writers for the vault's binary layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace ghostpod {

inline void put_u16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
}
inline void put_u32(std::uint8_t* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void put_u64(std::uint8_t* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint16_t get_u16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t get_u32(const std::uint8_t* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
inline std::uint64_t get_u64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

// Bounds-checked sequential reader over untrusted bytes: every read fails cleanly past the end.
class ByteReader {
public:
    explicit ByteReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
    bool u8(std::uint8_t& v) { return take(1, [&](const std::uint8_t* p) { v = p[0]; }); }
    bool u16(std::uint16_t& v) { return take(2, [&](const std::uint8_t* p) { v = get_u16(p); }); }
    bool u32(std::uint32_t& v) { return take(4, [&](const std::uint8_t* p) { v = get_u32(p); }); }
    bool u64(std::uint64_t& v) { return take(8, [&](const std::uint8_t* p) { v = get_u64(p); }); }
    // Points `out` at the next n bytes without copying.
    bool span(std::size_t n, std::span<const std::uint8_t>& out) {
        return take(n, [&](const std::uint8_t* p) { out = {p, n}; });
    }
    std::size_t offset() const { return pos_; }
    std::size_t remaining() const { return bytes_.size() - pos_; }

private:
    template <class F>
    bool take(std::size_t n, F&& f) {
        if (n > remaining()) return false;
        f(bytes_.data() + pos_);
        pos_ += n;
        return true;
    }
    std::span<const std::uint8_t> bytes_;
    std::size_t pos_ = 0;
};

}  // namespace ghostpod
