#include "pod/formats/tazpod.hpp"

#include <openssl/evp.h>
#include <sodium.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "vault/payload.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kBlock = 512;
constexpr std::size_t kKeyBytes = 32;
// OpenSSL and zlib count in int / uInt; feed them pieces well below either limit.
constexpr std::size_t kLibraryPiece = 1u << 30;

const char* const kDecryptStep = "decrypt the TazPod archive";
const char* const kInflateStep = "inflate the TazPod archive";
const char* const kTarStep = "read the tar inside the TazPod archive";

// zlib keeps a 32 KiB window of recent plaintext; it lives in guarded memory wiped on free.
void* zlib_alloc_secret(void*, uInt items, uInt size) { return sodium_allocarray(items, size); }
void zlib_free_secret(void*, void* address) { sodium_free(address); }

struct InflateEnd {
    void operator()(z_stream* stream) const { inflateEnd(stream); }
};

Error tar_error(std::size_t at, const std::string& why) {
    return make_error(ErrorCode::runtime, kTarStep, "header at byte " + std::to_string(at) + ": " + why);
}

std::string field_text(std::span<const std::uint8_t> field) {
    auto end = std::find(field.begin(), field.end(), std::uint8_t{0});
    return {field.begin(), end};
}

// A numeric header field: octal text, or GNU base-256 (high bit of the first byte set).
std::optional<std::uint64_t> parse_number(std::span<const std::uint8_t> field) {
    std::uint64_t value = 0;
    if (field[0] & 0x80) {
        if (field[0] & 0x40) return std::nullopt;  // negative
        value = field[0] & 0x3f;
        for (std::uint8_t b : field.subspan(1)) {
            if (value > (UINT64_MAX >> 8)) return std::nullopt;
            value = (value << 8) | b;
        }
        return value;
    }
    std::size_t i = 0;
    while (i < field.size() && field[i] == ' ') ++i;
    for (; i < field.size() && field[i] != 0 && field[i] != ' '; ++i) {
        if (field[i] < '0' || field[i] > '7' || value > (UINT64_MAX >> 3)) return std::nullopt;
        value = value * 8 + (field[i] - '0');
    }
    for (; i < field.size(); ++i)
        if (field[i] != 0 && field[i] != ' ') return std::nullopt;
    return value;
}

bool checksum_matches(std::span<const std::uint8_t> header) {
    auto stored = parse_number(header.subspan(148, 8));
    if (!stored) return false;
    std::uint64_t unsigned_sum = 0;
    std::int64_t signed_sum = 0;
    for (std::size_t i = 0; i < kBlock; ++i) {
        std::uint8_t b = (i >= 148 && i < 156) ? std::uint8_t{' '} : header[i];
        unsigned_sum += b;
        signed_sum += static_cast<std::int8_t>(b);
    }
    // Some old writers summed signed chars; accept either, as GNU tar does.
    return *stored == unsigned_sum || static_cast<std::int64_t>(*stored) == signed_sum;
}

// Pax extended header records: "LEN key=value\n", LEN counting the whole record.
Status parse_pax(std::span<const std::uint8_t> data, std::size_t at, std::optional<std::string>& path,
                 std::optional<std::uint64_t>& size) {
    std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (text[pos] == '\0') break;  // padding some writers leave
        std::size_t length = 0, i = pos;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - pos < 8) length = length * 10 + static_cast<std::size_t>(text[i++] - '0');
        if (i == pos || i >= text.size() || text[i] != ' ' || length <= i - pos + 1 || length > text.size() - pos ||
            text[pos + length - 1] != '\n')
            return tar_error(at, "malformed pax record");
        std::string_view record = text.substr(i + 1, pos + length - 1 - (i + 1));
        std::size_t eq = record.find('=');
        if (eq == std::string_view::npos) return tar_error(at, "malformed pax record");
        std::string_view key = record.substr(0, eq), value = record.substr(eq + 1);
        if (key == "path") {
            if (value.size() > kMaxTarNameBytes || value.find('\0') != std::string_view::npos)
                return tar_error(at, "pax path too long or not text");
            // An empty value cancels the keyword: the header's own name applies.
            path = value.empty() ? std::nullopt : std::optional<std::string>(value);
        } else if (key == "size") {
            std::uint64_t n = 0;
            if (value.empty() || value.size() > 19) return tar_error(at, "malformed pax size");
            for (char c : value) {
                if (c < '0' || c > '9') return tar_error(at, "malformed pax size");
                n = n * 10 + static_cast<std::uint64_t>(c - '0');
            }
            size = n;
        }
        pos += length;
    }
    return {};
}

bool has_dotdot_component(std::string_view name) {
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = std::min(name.find('/', start), name.size());
        if (name.substr(start, end - start) == "..") return true;
        start = end + 1;
    }
    return false;
}

std::string strip_dot_slash(std::string name) {
    while (name.rfind("./", 0) == 0) name.erase(0, 2);
    return name;
}

std::optional<std::string> unsafe_type(char type) {
    switch (type) {
        case '1': return "a hard link";
        case '2': return "a symbolic link";
        case '3': return "a character device";
        case '4': return "a block device";
        case '6': return "a FIFO";
        default: return std::nullopt;
    }
}

// Decides what becomes of one regular file: imported, left out (.vault_pass) or refused.
void classify_file(TarListing& listing, std::string name, std::uint64_t mode, std::size_t offset, std::size_t length) {
    if (name == kTazpodPassFile) {
        listing.had_pass_file = true;
        return;
    }
    auto refuse = [&](std::string why) { listing.refused.push_back({name, std::move(why)}); };
    if (!name.empty() && name[0] == '/') return refuse("an absolute path");
    if (has_dotdot_component(name)) return refuse("a path containing '..'");
    if (auto valid = validate_entry_name(name); !valid) return refuse("not a valid secret name: " + valid.error().why);
    if (length > kMaxValueBytes) return refuse("larger than " + std::to_string(kMaxValueBytes >> 20) + " MiB");
    listing.files.push_back({std::move(name), static_cast<std::uint16_t>(mode & 07777), offset, length});
}

}  // namespace

std::uint16_t tazpod_entry_mode(std::uint32_t tar_mode) { return static_cast<std::uint16_t>((tar_mode & 0700) | 0400); }

Result<SecretBuffer> decrypt_tazpod(std::span<const std::uint8_t> archive, std::span<const std::uint8_t> passphrase) {
    constexpr std::size_t kOverhead = kTazpodSaltBytes + kTazpodNonceBytes + kTazpodTagBytes;
    if (archive.size() < kOverhead)
        return make_error(ErrorCode::unlock, kDecryptStep,
                          "only " + std::to_string(archive.size()) + " bytes, fewer than its " + std::to_string(kOverhead) +
                              " bytes of salt, nonce and tag: truncated, or not a TazPod vault");
    auto salt = archive.first(kTazpodSaltBytes);
    auto nonce = archive.subspan(kTazpodSaltBytes, kTazpodNonceBytes);
    auto body = archive.subspan(kTazpodSaltBytes + kTazpodNonceBytes, archive.size() - kOverhead);
    auto tag = archive.last(kTazpodTagBytes);
    if (body.size() > kMaxPayloadBytes)
        return make_error(ErrorCode::usage, kDecryptStep, "larger than " + std::to_string(kMaxPayloadBytes >> 20) + " MiB");

    auto key = SecretBuffer::allocate(kKeyBytes);
    if (!key) return std::move(key).error();
    static const char kNoPassphrase = 0;
    const char* pass = passphrase.empty() ? &kNoPassphrase : reinterpret_cast<const char*>(passphrase.data());
    if (PKCS5_PBKDF2_HMAC(pass, static_cast<int>(passphrase.size()), salt.data(), static_cast<int>(salt.size()),
                          kTazpodPbkdf2Iterations, EVP_sha256(), static_cast<int>(kKeyBytes), key->data()) != 1)
        return make_error(ErrorCode::runtime, "derive the TazPod key", "PKCS5_PBKDF2_HMAC failed");

    auto plain = SecretBuffer::allocate(body.size());
    if (!plain) return plain;
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    auto failed = [] { return make_error(ErrorCode::runtime, kDecryptStep, "OpenSSL AES-256-GCM setup failed"); };
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kTazpodNonceBytes), nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key->data(), nonce.data()) != 1)
        return failed();
    std::size_t done = 0;
    while (done < body.size()) {
        std::size_t piece = std::min(body.size() - done, kLibraryPiece);
        int written = 0;
        if (EVP_DecryptUpdate(ctx.get(), plain->data() + done, &written, body.data() + done, static_cast<int>(piece)) != 1 ||
            static_cast<std::size_t>(written) != piece)
            return failed();
        done += piece;
    }
    std::uint8_t tag_copy[kTazpodTagBytes];
    std::memcpy(tag_copy, tag.data(), sizeof tag_copy);
    int tail = 0;
    std::uint8_t unused[16];
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTazpodTagBytes), tag_copy) != 1) return failed();
    // The plaintext above is unauthenticated until here; on failure `plain` is wiped with it.
    if (EVP_DecryptFinal_ex(ctx.get(), unused, &tail) != 1)
        return make_error(ErrorCode::unlock, kDecryptStep, "wrong TazPod passphrase or damaged archive",
                          "use the passphrase TazPod asks for on unlock; a truncated or edited file fails the same way");
    return plain;
}

Result<SecretBuffer> gunzip_secret(std::span<const std::uint8_t> gzip, std::size_t max_bytes) {
    auto out = SecretBuffer::allocate(0);
    auto scratch = SecretBuffer::allocate(kChunkBytes);
    if (!out) return out;
    if (!scratch) return scratch;
    z_stream stream{};
    stream.zalloc = zlib_alloc_secret;
    stream.zfree = zlib_free_secret;
    // 16 + MAX_WBITS: a gzip header and trailer around the deflate data, checked by zlib.
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
        return make_error(ErrorCode::runtime, kInflateStep, "zlib inflateInit2 failed");
    std::unique_ptr<z_stream, InflateEnd> ending(&stream);
    std::size_t fed = 0;
    for (;;) {
        if (stream.avail_in == 0 && fed < gzip.size()) {
            std::size_t piece = std::min(gzip.size() - fed, kLibraryPiece);
            stream.next_in = const_cast<Bytef*>(gzip.data() + fed);
            stream.avail_in = static_cast<uInt>(piece);
            fed += piece;
        }
        stream.next_out = scratch->data();
        stream.avail_out = static_cast<uInt>(scratch->size());
        int rc = inflate(&stream, Z_NO_FLUSH);
        std::size_t produced = scratch->size() - stream.avail_out;
        if (produced > max_bytes - out->size())
            return make_error(ErrorCode::usage, kInflateStep,
                              "it inflates to more than " + std::to_string(max_bytes >> 20) + " MiB");
        GP_TRY(out->append(scratch->bytes().first(produced)));
        bool input_left = stream.avail_in > 0 || fed < gzip.size();
        if (rc == Z_STREAM_END) {
            if (!input_left) return out;
            inflateReset(&stream);  // concatenated gzip members form one stream
            continue;
        }
        if (rc == Z_OK) continue;
        if (rc == Z_BUF_ERROR && !input_left)
            return make_error(ErrorCode::runtime, kInflateStep, "the gzip data ends early (truncated)");
        if (rc == Z_MEM_ERROR) return sys_error(kInflateStep, ENOMEM);
        return make_error(ErrorCode::runtime, kInflateStep,
                          std::string("not valid gzip data (") + (stream.msg ? stream.msg : "zlib error") + ")");
    }
}

Result<TarListing> read_tar(std::span<const std::uint8_t> tar) {
    TarListing listing;
    std::optional<std::string> long_name, pax_path;
    std::optional<std::uint64_t> pax_size;
    std::size_t headers = 0;
    std::size_t pos = 0;
    for (;;) {
        if (tar.size() - pos < kBlock)
            return make_error(ErrorCode::runtime, kTarStep, "it ends without the end-of-archive blocks (truncated)");
        auto header = tar.subspan(pos, kBlock);
        if (std::all_of(header.begin(), header.end(), [](std::uint8_t b) { return b == 0; })) {
            std::size_t next = pos + kBlock;
            // Two zero blocks end the archive; a lone one at the very end is accepted too.
            auto second = tar.subspan(next, std::min(kBlock, tar.size() - next));
            if (second.size() == kBlock && !std::all_of(second.begin(), second.end(), [](std::uint8_t b) { return b == 0; }))
                return tar_error(next, "data after an end-of-archive block");
            return listing;
        }
        if (++headers > kMaxTarEntries) return tar_error(pos, "more than " + std::to_string(kMaxTarEntries) + " entries");
        std::string_view magic(reinterpret_cast<const char*>(header.data() + 257), 6);
        bool posix = magic == std::string_view("ustar\0", 6);
        if (!posix && magic != "ustar ") return tar_error(pos, "not a ustar, pax or GNU tar header");
        if (!checksum_matches(header)) return tar_error(pos, "checksum mismatch (damaged, or not a tar archive)");
        auto header_size = parse_number(header.subspan(124, 12));
        auto mode = parse_number(header.subspan(100, 8));
        if (!header_size || !mode) return tar_error(pos, "a size or mode field is not a number");
        char type = static_cast<char>(header[156]);
        bool meta = type == 'L' || type == 'K' || type == 'x' || type == 'g';
        std::uint64_t size = (!meta && pax_size) ? *pax_size : *header_size;
        std::size_t data_at = pos + kBlock;
        if (size > tar.size() - data_at)
            return tar_error(pos, "the entry claims " + std::to_string(size) + " bytes but the archive ends first (truncated)");
        auto data = tar.subspan(data_at, static_cast<std::size_t>(size));
        std::size_t next = data_at + (data.size() + kBlock - 1) / kBlock * kBlock;
        if (next > tar.size()) next = tar.size();  // the last block's padding may be cut short

        if (type == 'L' || type == 'K') {
            if (data.size() > kMaxTarNameBytes) return tar_error(pos, "a GNU long name longer than " + std::to_string(kMaxTarNameBytes) + " bytes");
            if (type == 'L') long_name = field_text(data);
        } else if (type == 'x') {
            if (data.size() > kMaxPaxHeaderBytes) return tar_error(pos, "a pax header larger than 1 MiB");
            GP_TRY(parse_pax(data, pos, pax_path, pax_size));
        } else if (type != 'g') {  // global pax headers carry nothing we use
            std::string name;
            if (pax_path) name = *pax_path;
            else if (long_name) name = *long_name;
            else {
                std::string prefix = posix ? field_text(header.subspan(345, 155)) : std::string();
                name = field_text(header.subspan(0, 100));
                if (!prefix.empty()) name = prefix + "/" + name;
            }
            name = strip_dot_slash(std::move(name));
            if (type == '0' || type == '\0' || type == '7') {
                classify_file(listing, std::move(name), *mode, data_at, data.size());
            } else if (auto why = unsafe_type(type)) {
                listing.refused.push_back({std::move(name), *why});
            } else if (type != '5') {  // directories are implied by the files' names
                listing.refused.push_back({std::move(name), std::string("an unsupported entry type '") + type + "'"});
            }
            long_name.reset();
            pax_path.reset();
            pax_size.reset();
        }
        pos = next;
    }
}

Result<TazpodContents> open_tazpod(std::span<const std::uint8_t> archive, std::span<const std::uint8_t> passphrase) {
    auto gzip = decrypt_tazpod(archive, passphrase);
    if (!gzip) return std::move(gzip).error();
    auto tar = gunzip_secret(gzip->bytes(), kMaxPayloadBytes);
    if (!tar) return std::move(tar).error();
    auto listing = read_tar(tar->bytes());
    if (!listing) return std::move(listing).error();
    return TazpodContents{std::move(*tar), std::move(*listing)};
}

}  // namespace ghostpod
