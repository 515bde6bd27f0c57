#include "vault/recovery_key.hpp"

#include <sodium.h>

namespace ghostpod {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";  // RFC 4648 base32
constexpr std::size_t kEncodedChars = (kRecoveryKeyBytes * 8 + 4) / 5;  // 52
constexpr std::size_t kGroup = 4;

int decode_char(std::uint8_t c) {
    if (c >= 'a' && c <= 'z') c = static_cast<std::uint8_t>(c - 'a' + 'A');
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

}  // namespace

Result<SecretBuffer> generate_recovery_key() {
    auto key = SecretBuffer::allocate(kRecoveryKeyBytes);
    if (key) randombytes_buf(key->data(), key->size());
    return key;
}

Result<SecretBuffer> format_recovery_key(std::span<const std::uint8_t> key) {
    auto text = SecretBuffer::allocate(0);
    if (!text) return text;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t emitted = 0;
    auto emit = [&](int index) -> Status {
        if (emitted > 0 && emitted % kGroup == 0) GP_TRY(text->push_back('-'));
        ++emitted;
        return text->push_back(static_cast<std::uint8_t>(kAlphabet[index]));
    };
    for (std::uint8_t byte : key) {
        acc = (acc << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            GP_TRY(emit(static_cast<int>((acc >> (bits - 5)) & 31)));
            bits -= 5;
        }
    }
    if (bits > 0) GP_TRY(emit(static_cast<int>((acc << (5 - bits)) & 31)));
    acc = 0;
    return text;
}

Result<SecretBuffer> parse_recovery_key(std::span<const std::uint8_t> text) {
    auto key = SecretBuffer::allocate(0);
    if (!key) return key;
    auto invalid = make_error(ErrorCode::usage, "read recovery key",
                              "not a recovery key (expected 52 base32 characters in groups of 4)",
                              "copy the key exactly as 'ghostpod init' printed it");
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t chars = 0;
    for (std::uint8_t c : text) {
        if (c == '-' || c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        int v = decode_char(c);
        if (v < 0 || ++chars > kEncodedChars) return invalid;
        acc = (acc << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            GP_TRY(key->push_back(static_cast<std::uint8_t>(acc >> (bits - 8))));
            bits -= 8;
        }
    }
    // 52 characters carry 260 bits: the last 4 must be zero padding.
    bool padding_clean = (acc & ((1u << bits) - 1)) == 0;
    acc = 0;
    if (chars != kEncodedChars || key->size() != kRecoveryKeyBytes || !padding_clean) return invalid;
    return key;
}

}  // namespace ghostpod
