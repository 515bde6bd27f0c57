// Bech32 as BIP 173 specifies it, and age X25519 identities on top of it. Written from the
// BIP 173 text and the age spec (C2SP age.md, "The X25519 recipient type").
#include "pod/formats/age_key.hpp"

#include <sodium.h>

#include <array>
#include <cstdio>
#include <ctime>

namespace ghostpod {
namespace bech32 {
namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr std::array<std::uint32_t, 5> kGenerator = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
constexpr std::size_t kMaxHrpLength = 83;

Error invalid(const std::string& why) { return make_error(ErrorCode::usage, "decode Bech32", why); }

// One step of the BCH checksum over GF(32). Masks instead of branches: the words may be secret.
std::uint32_t polymod_step(std::uint32_t checksum, std::uint8_t word) {
    std::uint32_t top = checksum >> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ word;
    for (std::size_t i = 0; i < kGenerator.size(); ++i)
        checksum ^= (0u - ((top >> i) & 1u)) & kGenerator[i];
    return checksum;
}

// The HRP's part of the checksum: high bits of each character, a zero, then the low bits.
std::uint32_t polymod_hrp(std::string_view hrp) {
    std::uint32_t checksum = 1;
    for (char c : hrp) checksum = polymod_step(checksum, static_cast<std::uint8_t>(static_cast<unsigned char>(c) >> 5));
    checksum = polymod_step(checksum, 0);
    for (char c : hrp) checksum = polymod_step(checksum, static_cast<std::uint8_t>(static_cast<unsigned char>(c) & 31));
    return checksum;
}

int charset_index(char c) {
    auto at = kCharset.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

Result<SecretBuffer> encode_words(std::string_view hrp, std::span<const std::uint8_t> words) {
    if (hrp.empty() || hrp.size() > kMaxHrpLength)
        return make_error(ErrorCode::usage, "encode Bech32", "the HRP must be 1 to 83 characters");
    for (char c : hrp)
        if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z'))
            return make_error(ErrorCode::usage, "encode Bech32", "the HRP must be lower-case printable ASCII");
    std::size_t length = hrp.size() + 1 + words.size() + kChecksumWords;
    if (length > kMaxLength) return make_error(ErrorCode::usage, "encode Bech32", "longer than 90 characters");
    auto out = SecretBuffer::allocate(length);
    if (!out) return out;
    std::uint8_t* p = out->data();
    for (char c : hrp) *p++ = static_cast<std::uint8_t>(c);
    *p++ = '1';
    std::uint32_t checksum = polymod_hrp(hrp);
    for (std::uint8_t word : words) {
        if (word > 31) return make_error(ErrorCode::usage, "encode Bech32", "a data word is wider than 5 bits");
        checksum = polymod_step(checksum, word);
        *p++ = static_cast<std::uint8_t>(kCharset[word]);
    }
    for (std::size_t i = 0; i < kChecksumWords; ++i) checksum = polymod_step(checksum, 0);
    checksum ^= 1;
    for (std::size_t i = 0; i < kChecksumWords; ++i)
        *p++ = static_cast<std::uint8_t>(kCharset[(checksum >> (5 * (kChecksumWords - 1 - i))) & 31]);
    return out;
}

Result<Decoded> decode_words(std::string_view text) {
    if (text.size() > kMaxLength) return invalid("longer than 90 characters");
    bool has_lower = false, has_upper = false;
    for (char c : text) {
        if (c < 33 || c > 126) return invalid("a character outside printable ASCII");
        has_lower = has_lower || (c >= 'a' && c <= 'z');
        has_upper = has_upper || (c >= 'A' && c <= 'Z');
    }
    if (has_lower && has_upper) return invalid("mixed upper and lower case");
    auto separator = text.rfind('1');
    if (separator == std::string_view::npos) return invalid("no separator '1'");
    if (separator == 0) return invalid("an empty HRP");
    if (text.size() - separator - 1 < kChecksumWords) return invalid("too short for a checksum");
    Decoded decoded;
    for (char c : text.substr(0, separator)) decoded.hrp.push_back(lower(c));
    std::string_view data = text.substr(separator + 1);
    auto words = SecretBuffer::allocate(data.size());
    if (!words) return std::move(words).error();
    std::uint32_t checksum = polymod_hrp(decoded.hrp);
    for (std::size_t i = 0; i < data.size(); ++i) {
        int value = charset_index(lower(data[i]));
        if (value < 0) return invalid("a character outside the Bech32 alphabet");
        words->data()[i] = static_cast<std::uint8_t>(value);
        checksum = polymod_step(checksum, static_cast<std::uint8_t>(value));
    }
    if (checksum != 1) return invalid("the checksum does not match (a typo, or a truncated string)");
    words->truncate(data.size() - kChecksumWords);
    decoded.words = std::move(*words);
    return decoded;
}

Result<SecretBuffer> bytes_to_words(std::span<const std::uint8_t> bytes) {
    auto words = SecretBuffer::allocate((bytes.size() * 8 + 4) / 5);
    if (!words) return words;
    std::uint32_t bits = 0;  // pending input bits, most significant first
    unsigned count = 0;
    std::size_t out = 0;
    for (std::uint8_t byte : bytes) {
        bits = (bits << 8) | byte;
        count += 8;
        while (count >= 5) {
            count -= 5;
            words->data()[out++] = static_cast<std::uint8_t>((bits >> count) & 31);
        }
    }
    if (count > 0) words->data()[out++] = static_cast<std::uint8_t>((bits << (5 - count)) & 31);
    sodium_memzero(&bits, sizeof bits);
    return words;
}

Result<SecretBuffer> words_to_bytes(std::span<const std::uint8_t> words) {
    auto bytes = SecretBuffer::allocate(words.size() * 5 / 8);
    if (!bytes) return bytes;
    std::uint32_t bits = 0;
    unsigned count = 0;
    std::size_t out = 0;
    bool bad_word = false;
    for (std::uint8_t word : words) {
        bad_word = bad_word || word > 31;
        bits = ((bits << 5) | (word & 31u)) & 0xfff;  // at most 12 pending bits matter
        count += 5;
        if (count >= 8) {
            count -= 8;
            bytes->data()[out++] = static_cast<std::uint8_t>((bits >> count) & 0xff);
        }
    }
    bool bad_padding = count >= 5 || (bits & ((1u << count) - 1)) != 0;
    sodium_memzero(&bits, sizeof bits);
    if (bad_word) return invalid("a data word is wider than 5 bits");
    if (bad_padding) return invalid("non-zero or over-long padding bits");
    return bytes;
}

Result<SecretBuffer> encode(std::string_view hrp, std::span<const std::uint8_t> bytes) {
    auto words = bytes_to_words(bytes);
    if (!words) return words;
    return encode_words(hrp, words->bytes());
}

Result<SecretBuffer> decode(std::string_view text, std::string_view expected_hrp) {
    auto decoded = decode_words(text);
    if (!decoded) return std::move(decoded).error();
    if (decoded->hrp != expected_hrp)
        return invalid("the prefix is '" + decoded->hrp + "1', expected '" + std::string(expected_hrp) + "1'");
    return words_to_bytes(decoded->words.bytes());
}

}  // namespace bech32

namespace {

std::span<const std::uint8_t> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

Result<std::string> recipient_for(std::span<const std::uint8_t> secret_key) {
    std::array<std::uint8_t, crypto_scalarmult_BYTES> public_key{};
    if (crypto_scalarmult_base(public_key.data(), secret_key.data()) != 0)
        return make_error(ErrorCode::runtime, "derive the age public key", "crypto_scalarmult_base failed");
    auto encoded = bech32::encode(kAgeRecipientHrp, public_key);
    if (!encoded) return std::move(encoded).error();
    return std::string(encoded->view());
}

}  // namespace

Result<AgeIdentity> generate_age_identity(const std::string& created) {
    static_assert(kAgeKeyBytes == crypto_scalarmult_SCALARBYTES);
    auto secret_key = SecretBuffer::allocate_key(kAgeKeyBytes);
    if (!secret_key) return std::move(secret_key).error();
    randombytes_buf(secret_key->data(), secret_key->size());
    AgeIdentity identity;
    auto recipient = recipient_for(secret_key->bytes());
    if (!recipient) return std::move(recipient).error();
    identity.recipient = std::move(*recipient);
    auto encoded = bech32::encode(kAgeIdentityHrp, secret_key->bytes());
    if (!encoded) return std::move(encoded).error();
    for (std::uint8_t& c : encoded->bytes())
        if (c >= 'a' && c <= 'z') c = static_cast<std::uint8_t>(c - 'a' + 'A');

    std::string header = "# created: " + created + "\n# public key: " + identity.recipient + "\n";
    auto file = SecretBuffer::allocate(0);
    if (!file) return std::move(file).error();
    GP_TRY(file->append(as_bytes(header)));
    GP_TRY(file->append(encoded->bytes()));
    GP_TRY(file->push_back('\n'));
    identity.key_file = std::move(*file);
    return identity;
}

Result<std::string> age_recipient_of(std::span<const std::uint8_t> identity) {
    std::string_view text(reinterpret_cast<const char*>(identity.data()), identity.size());
    auto first = text.find_first_not_of(" \t\r\n");
    auto last = text.find_last_not_of(" \t\r\n");
    if (first == std::string_view::npos) return make_error(ErrorCode::usage, "read the age identity", "it is empty");
    auto secret_key = bech32::decode(text.substr(first, last - first + 1), kAgeIdentityHrp);
    if (!secret_key) return std::move(secret_key).error();
    if (secret_key->size() != kAgeKeyBytes)
        return make_error(ErrorCode::usage, "read the age identity", "the key is not 32 bytes");
    return recipient_for(secret_key->bytes());
}

std::string rfc3339_local_now() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &local);
    std::string text = stamp;
    long offset = local.tm_gmtoff;
    if (offset == 0) return text + "Z";
    char zone[32];
    long magnitude = offset < 0 ? -offset : offset;
    std::snprintf(zone, sizeof zone, "%c%02ld:%02ld", offset < 0 ? '-' : '+', magnitude / 3600, magnitude % 3600 / 60);
    return text + zone;
}

}  // namespace ghostpod
