// The importers' parsers in-process: .env edge cases, the tar reader on crafted and hostile
// archives, and every truncation the decrypt-inflate-untar chain can meet.
#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <zlib.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "pod/formats/dotenv.hpp"
#include "pod/formats/tazpod.hpp"

using namespace ghostpod;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
std::string text_of(std::span<const std::uint8_t> b) { return {b.begin(), b.end()}; }

// ---- .env ----

std::map<std::string, std::string> dotenv(const std::string& text) {
    auto parsed = parse_dotenv(bytes_of(text), "parse .env");
    INFO((parsed ? std::string() : parsed.error().describe()));
    REQUIRE(parsed);
    std::map<std::string, std::string> out;
    for (const auto& v : parsed->variables) out[v.key] = text_of(parsed->value(v));
    return out;
}

Error dotenv_error(const std::string& text) {
    auto parsed = parse_dotenv(bytes_of(text), "parse .env");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::usage);
    return parsed.error();
}

// ---- tar ----

void put_octal(std::string& header, std::size_t at, std::size_t width, std::uint64_t value) {
    std::string digits(width - 1, '0');
    for (std::size_t i = width - 1; i-- > 0; value >>= 3) digits[i] = static_cast<char>('0' + (value & 7));
    header.replace(at, width - 1, digits);
}

struct Member {
    Member(std::string name_, char type_ = '0', std::string data_ = {}, std::uint32_t mode_ = 0600,
           std::string prefix_ = {}, bool gnu_ = false, std::string linkname_ = {})
        : name(std::move(name_)), type(type_), data(std::move(data_)), mode(mode_), prefix(std::move(prefix_)), gnu(gnu_),
          linkname(std::move(linkname_)) {}
    std::string name;
    char type;
    std::string data;
    std::uint32_t mode;
    std::string prefix;  // ustar prefix field
    bool gnu;            // GNU magic instead of POSIX ustar
    std::string linkname;
};

std::string header_for(const Member& m, std::size_t size) {
    std::string h(512, '\0');
    h.replace(0, std::min<std::size_t>(m.name.size(), 100), m.name.substr(0, 100));
    put_octal(h, 100, 8, m.mode);
    put_octal(h, 108, 8, 1000);
    put_octal(h, 116, 8, 1000);
    put_octal(h, 124, 12, size);
    put_octal(h, 136, 12, 1700000000);
    h[156] = m.type;
    h.replace(157, std::min<std::size_t>(m.linkname.size(), 100), m.linkname.substr(0, 100));
    h.replace(257, 8, m.gnu ? std::string("ustar  \0", 8) : std::string("ustar\0" "00", 8));
    if (!m.gnu) h.replace(345, std::min<std::size_t>(m.prefix.size(), 155), m.prefix.substr(0, 155));
    h.replace(148, 8, "        ");
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    put_octal(h, 148, 7, sum);  // six digits, NUL, space
    h[155] = ' ';
    return h;
}

std::string padded(std::string data) {
    data.resize((data.size() + 511) / 512 * 512, '\0');
    return data;
}

std::string tar_of(const std::vector<Member>& members, bool end_blocks = true) {
    std::string out;
    for (const auto& m : members) out += header_for(m, m.data.size()) + padded(m.data);
    if (end_blocks) out += std::string(1024, '\0');
    return out;
}

std::string pax_record(const std::string& key, const std::string& value) {
    std::string body = " " + key + "=" + value + "\n";
    std::size_t length = body.size() + 1;
    while (std::to_string(length).size() + body.size() != length) ++length;
    return std::to_string(length) + body;
}

TarListing listing_of(const std::string& tar) {
    auto listing = read_tar(bytes_of(tar));
    INFO((listing ? std::string() : listing.error().describe()));
    REQUIRE(listing);
    return std::move(*listing);
}

std::string file_bytes(const std::string& tar, const TarFile& f) { return tar.substr(f.offset, f.length); }

// ---- gzip and AES-GCM, written here with zlib and OpenSSL directly ----

std::string gzip_of(const std::string& data) {
    z_stream s{};
    REQUIRE(deflateInit2(&s, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&s, static_cast<uLong>(data.size())) + 64, '\0');
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    s.avail_in = static_cast<uInt>(data.size());
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&s, Z_FINISH) == Z_STREAM_END);
    out.resize(s.total_out);
    deflateEnd(&s);
    return out;
}

std::string tazpod_archive(const std::string& passphrase, const std::string& plaintext) {
    std::string salt(32, 's'), nonce(12, 'n');
    unsigned char key[32];
    REQUIRE(PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()),
                              reinterpret_cast<const unsigned char*>(salt.data()), 32, 100000, EVP_sha256(), 32, key) == 1);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    std::string body(plaintext.size(), '\0');
    int n = 0;
    REQUIRE(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key, reinterpret_cast<const unsigned char*>(nonce.data())) == 1);
    REQUIRE(EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(body.data()), &n,
                              reinterpret_cast<const unsigned char*>(plaintext.data()), static_cast<int>(plaintext.size())) == 1);
    REQUIRE(EVP_EncryptFinal_ex(ctx, nullptr, &n) == 1);
    std::string tag(16, '\0');
    REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return salt + nonce + body + tag;
}

}  // namespace

TEST_CASE("dotenv reads plain, exported, quoted and commented assignments", "[import]") {
    auto vars = dotenv("# a comment\n"
                       "\n"
                       "PLAIN=value\n"
                       "export EXPORTED=yes\n"
                       "  SPACED  =   padded value   \n"
                       "SINGLE='single # not a comment'\n"
                       "DOUBLE=\"double\"  # a comment\n"
                       "EMPTY=\n"
                       "EMPTY_QUOTED=\"\"\n"
                       "_under_9=x\n"
                       "export=is a key\n"
                       "\t# indented comment\n"
                       "LAST=no newline");
    CHECK(vars == std::map<std::string, std::string>{{"PLAIN", "value"}, {"EXPORTED", "yes"}, {"SPACED", "padded value"},
                                                     {"SINGLE", "single # not a comment"}, {"DOUBLE", "double"},
                                                     {"EMPTY", ""}, {"EMPTY_QUOTED", ""}, {"_under_9", "x"},
                                                     {"export", "is a key"}, {"LAST", "no newline"}});
}

TEST_CASE("dotenv double quotes unescape \\n \\t \\r \\\" \\\\, and \\$ \\` as a shell does, and keep other backslashes",
          "[import]") {
    auto vars = dotenv(R"(D="a\nb\tc\rd\"e\\f\$g\x\`h")" "\n" R"(S='a\nb\\')" "\n");
    CHECK(vars["D"] == "a\nb\tc\rd\"e\\f$g\\x`h");
    CHECK(vars["S"] == "a\\nb\\\\");
}

TEST_CASE("dotenv quoted values span lines and keep their newlines exactly", "[import]") {
    std::string pem = "-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----\n";
    auto vars = dotenv("KEY=\"" + pem + "\"\nSQ='one\ntwo'\nAFTER=1\n");
    CHECK(vars["KEY"] == pem);
    CHECK(vars["SQ"] == "one\ntwo");
    CHECK(vars["AFTER"] == "1");
}

TEST_CASE("dotenv reads CRLF line ends as LF, inside quoted values too", "[import]") {
    auto vars = dotenv("A=one\r\nB=\"x\r\ny\"\r\nC='p\r\nq'\r\n# c\r\nD=  trimmed  \r\n");
    CHECK(vars == std::map<std::string, std::string>{{"A", "one"}, {"B", "x\ny"}, {"C", "p\nq"}, {"D", "trimmed"}});
}

TEST_CASE("dotenv starts a comment at # only after whitespace in unquoted values", "[import]") {
    auto vars = dotenv("A=a#b\nB=a #b\nC=a\t#b\nD=#x\nE= #only a comment\n");
    CHECK(vars == std::map<std::string, std::string>{{"A", "a#b"}, {"B", "a"}, {"C", "a"}, {"D", "#x"}, {"E", ""}});
}

TEST_CASE("dotenv keeps $VARIABLES as written: no expansion", "[import]") {
    auto vars = dotenv("HOME_COPY=$HOME\nBRACED=\"${USER}x\"\n");
    CHECK(vars["HOME_COPY"] == "$HOME");
    CHECK(vars["BRACED"] == "${USER}x");
}

TEST_CASE("dotenv lists a key defined twice twice, in file order, with its line", "[import]") {
    auto parsed = parse_dotenv(bytes_of("K=first\nOTHER=o\nK=second\n"), "parse .env");
    REQUIRE(parsed);
    REQUIRE(parsed->variables.size() == 3);
    CHECK(parsed->variables[2].key == "K");
    CHECK(parsed->variables[2].line == 3);
    CHECK(text_of(parsed->value(parsed->variables[0])) == "first");
    CHECK(text_of(parsed->value(parsed->variables[2])) == "second");
}

TEST_CASE("dotenv with only comments and blank lines holds no variables", "[import]") {
    CHECK(dotenv("").empty());
    CHECK(dotenv("# nothing\n\n   \n\t\r\n").empty());
}

TEST_CASE("dotenv refuses a bad key with its line number and no text of the line", "[import]") {
    for (const auto& [text, line] : std::vector<std::pair<std::string, int>>{{"OK=1\n9KEY=secretvalue1\n", 2},
                                                                           {"OK=1\n\nMY-KEY=secretvalue1\n", 3},
                                                                           {"secretvalue1\n", 1},
                                                                           {"A=\"x\ny\"\nKEY secretvalue1\n", 3},
                                                                           {"export\n", 1}}) {
        INFO(text);
        auto e = dotenv_error(text);
        CHECK(e.why.rfind("line " + std::to_string(line) + ":", 0) == 0);
        CHECK(e.describe().find("secretvalue1") == std::string::npos);
        CHECK(e.hint.find("secretvalue1") == std::string::npos);
    }
}

TEST_CASE("dotenv refuses an unclosed quote naming the line it opened on", "[import]") {
    auto e = dotenv_error("A=1\nB=\"secretvalue1\nmore\n");
    CHECK(e.why.rfind("line 2: the double-quoted value has no closing quote", 0) == 0);
    auto s = dotenv_error("C='secretvalue1");
    CHECK(s.why.rfind("line 1: the single-quoted", 0) == 0);
    CHECK(s.describe().find("secretvalue1") == std::string::npos);
}

TEST_CASE("dotenv refuses text after a closing quote, and NUL bytes", "[import]") {
    CHECK(dotenv_error("A='x'y\n").why.rfind("line 1: unexpected text", 0) == 0);
    CHECK(dotenv_error("A=1\nB=x" + std::string(1, '\0') + "y\n").why.rfind("line 2: a NUL byte", 0) == 0);
}

TEST_CASE("tar reader lists ustar names with prefix, GNU long names and pax paths byte-exact", "[import]") {
    std::string long_dir(120, 'd'), long_name = long_dir + "/file.txt";
    std::string binary;
    for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
    std::string pax = pax_record("mtime", "1700000000.5") + pax_record("path", "pax/" + long_name);
    std::string tar = tar_of({{"./plain.txt", '0', "plain\n"},
                              {"file.txt", '0', binary, 0640, long_dir},
                              {"././@LongLink", 'L', "gnu/" + long_name + std::string(1, '\0'), 0644, "", true},
                              {"gnu/truncated-name", '0', "gnu", 0600, "", true},
                              {"PaxHeaders/x", 'x', pax},
                              {"pax/short", '0', std::string(1000, 'p'), 0700}});
    auto listing = listing_of(tar);
    REQUIRE(listing.files.size() == 4);
    CHECK(listing.refused.empty());
    CHECK(listing.files[0].name == "plain.txt");
    CHECK(file_bytes(tar, listing.files[0]) == "plain\n");
    CHECK(listing.files[1].name == long_dir + "/file.txt");
    CHECK(file_bytes(tar, listing.files[1]) == binary);
    CHECK(listing.files[1].mode == 0640);
    CHECK(listing.files[2].name == "gnu/" + long_name);
    CHECK(file_bytes(tar, listing.files[2]) == "gnu");
    CHECK(listing.files[3].name == "pax/" + long_name);
    CHECK(file_bytes(tar, listing.files[3]) == std::string(1000, 'p'));
}

TEST_CASE("tar reader ignores directories and global pax headers, and a long name applies once", "[import]") {
    std::string tar = tar_of({{"./", '5', ""},
                              {"dir/", '5', ""},
                              {"pax_global_header", 'g', pax_record("path", "global/ignored")},
                              {"././@LongLink", 'L', "long/once", 0644, "", true},
                              {"short1", '0', "1", 0600, "", true},
                              {"short2", '0', "2", 0600, "", true}});
    auto listing = listing_of(tar);
    REQUIRE(listing.files.size() == 2);
    CHECK(listing.files[0].name == "long/once");
    CHECK(listing.files[1].name == "short2");
}

TEST_CASE("tar reader refuses absolute paths, '..', links, devices and FIFOs by name", "[import]") {
    std::string tar = tar_of({{"good.txt", '0', "good"},
                              {"../escape", '0', "x"},
                              {"a/../../b", '0', "x"},
                              {"/etc/cron.d/x", '0', "x"},
                              {"link", '2', "", 0777, "", false, "/etc/shadow"},
                              {"hard", '1', "", 0600, "", false, "good.txt"},
                              {"dev", '3', ""},
                              {"blk", '4', ""},
                              {"pipe", '6', ""},
                              {"sparse", 'S', ""},
                              {"has space", '0', "x"},
                              {"a..b/ok", '0', "dots inside a name are fine"}});
    auto listing = listing_of(tar);
    REQUIRE(listing.files.size() == 2);
    CHECK(listing.files[0].name == "good.txt");
    CHECK(listing.files[1].name == "a..b/ok");
    std::map<std::string, std::string> refused;
    for (const auto& r : listing.refused) refused[r.name] = r.why;
    CHECK(refused == std::map<std::string, std::string>{
                         {"../escape", "a path containing '..'"},
                         {"a/../../b", "a path containing '..'"},
                         {"/etc/cron.d/x", "an absolute path"},
                         {"link", "a symbolic link"},
                         {"hard", "a hard link"},
                         {"dev", "a character device"},
                         {"blk", "a block device"},
                         {"pipe", "a FIFO"},
                         {"sparse", "an unsupported entry type 'S'"},
                         {"has space", "not a valid secret name: character ' ' is not allowed"}});
}

TEST_CASE("tar reader leaves .vault_pass out and says it was there", "[import]") {
    auto with = listing_of(tar_of({{"./.vault_pass", '0', "the-passphrase"}, {"x", '0', "x"}}));
    CHECK(with.had_pass_file);
    REQUIRE(with.files.size() == 1);
    CHECK(with.files[0].name == "x");
    CHECK_FALSE(listing_of(tar_of({{"x", '0', "x"}})).had_pass_file);
}

TEST_CASE("tar reader refuses a bad checksum, a foreign header and a size beyond the end", "[import]") {
    std::string tar = tar_of({{"x", '0', "data"}});
    std::string bad_sum = tar;
    bad_sum[0] = 'y';
    CHECK(read_tar(bytes_of(bad_sum)).error().why.find("checksum mismatch") != std::string::npos);
    std::string foreign = tar;
    foreign.replace(257, 6, "zstar\0");
    CHECK_FALSE(read_tar(bytes_of(foreign)));
    std::string huge = header_for({"x", '0', ""}, std::uint64_t{1} << 32) + std::string(1024, '\0');
    CHECK(read_tar(bytes_of(huge)).error().why.find("archive ends first") != std::string::npos);
    std::string bad_pax = tar_of({{"p", 'x', "99 path=x\n"}, {"x", '0', "x"}});
    CHECK(read_tar(bytes_of(bad_pax)).error().why.find("malformed pax record") != std::string::npos);
}

TEST_CASE("tar reader refuses an archive cut anywhere before its end blocks", "[import]") {
    std::string pax = pax_record("path", std::string(150, 'q'));
    std::string body = tar_of({{"a.txt", '0', std::string(700, 'a')}, {"PaxHeaders/x", 'x', pax}, {"q", '0', "q"}}, false);
    for (std::size_t cut = 0; cut <= body.size(); cut += (cut % 512 == 0 ? 1 : 97)) {
        INFO("cut at " << cut);
        CHECK_FALSE(read_tar(bytes_of(body.substr(0, cut))));
    }
    CHECK(read_tar(bytes_of(body + std::string(512, '\0'))));
    CHECK(read_tar(bytes_of(body + std::string(1024, '\0'))));
}

TEST_CASE("a TazPod file mode keeps owner bits only, at least owner-read", "[import]") {
    CHECK(tazpod_entry_mode(0777) == 0700);
    CHECK(tazpod_entry_mode(0644) == 0600);
    CHECK(tazpod_entry_mode(0044) == 0400);
    CHECK(tazpod_entry_mode(04755) == 0700);
    CHECK(tazpod_entry_mode(0200) == 0600);
}

TEST_CASE("gunzip refuses data that is not gzip, gzip cut short, and output beyond its cap", "[import]") {
    std::string data(200000, 'z');
    for (std::size_t i = 0; i < data.size(); i += 13) data[i] = static_cast<char>(i);
    std::string gz = gzip_of(data);
    auto whole = gunzip_secret(bytes_of(gz), 1u << 20);
    REQUIRE(whole);
    CHECK(text_of(whole->bytes()) == data);
    auto twice = gunzip_secret(bytes_of(gz + gz), 1u << 20);
    REQUIRE(twice);
    CHECK(twice->size() == 2 * data.size());
    CHECK(gunzip_secret(bytes_of("plain text, not gzip at all"), 1u << 20).error().why.find("not valid gzip") != std::string::npos);
    for (std::size_t cut : {std::size_t{0}, std::size_t{5}, gz.size() / 2, gz.size() - 4, gz.size() - 1}) {
        INFO("cut at " << cut);
        auto r = gunzip_secret(bytes_of(gz.substr(0, cut)), 1u << 20);
        REQUIRE_FALSE(r);
        CHECK(r.error().why.find("ends early") != std::string::npos);
    }
    auto capped = gunzip_secret(bytes_of(gz), 100000);
    REQUIRE_FALSE(capped);
    CHECK(capped.error().why.find("inflates to more than") != std::string::npos);
}

TEST_CASE("a TazPod archive decrypts, inflates and lists in memory, a wrong passphrase is exit 3", "[import]") {
    std::string tar = tar_of({{"./.vault_pass", '0', "correct horse"}, {"kube/config", '0', "apiVersion: v1\n", 0600}});
    std::string archive = tazpod_archive("correct horse", gzip_of(tar));
    auto contents = open_tazpod(bytes_of(archive), bytes_of("correct horse"));
    INFO((contents ? std::string() : contents.error().describe()));
    REQUIRE(contents);
    CHECK(contents->listing.had_pass_file);
    REQUIRE(contents->listing.files.size() == 1);
    CHECK(text_of(contents->tar.bytes().subspan(contents->listing.files[0].offset, contents->listing.files[0].length)) ==
          "apiVersion: v1\n");

    auto wrong = open_tazpod(bytes_of(archive), bytes_of("correct horsf"));
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == ErrorCode::unlock);
    CHECK(wrong.error().why == "wrong TazPod passphrase or damaged archive");
    for (std::size_t at : {std::size_t{0}, std::size_t{40}, archive.size() / 2, archive.size() - 1}) {
        std::string flipped = archive;
        flipped[at] = static_cast<char>(flipped[at] ^ 1);
        auto r = open_tazpod(bytes_of(flipped), bytes_of("correct horse"));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::unlock);
    }
    for (std::size_t cut : {std::size_t{0}, std::size_t{59}, std::size_t{60}, archive.size() - 1}) {
        auto r = open_tazpod(bytes_of(archive.substr(0, cut)), bytes_of("correct horse"));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::unlock);
    }
    CHECK(open_tazpod(bytes_of(archive.substr(0, 59)), bytes_of("x")).error().why.find("fewer than its 60 bytes") !=
          std::string::npos);
}

TEST_CASE("an authentic archive holding bad gzip or a bad tar is refused with the step named", "[import]") {
    auto not_gzip = open_tazpod(bytes_of(tazpod_archive("pw", "not gzip")), bytes_of("pw"));
    REQUIRE_FALSE(not_gzip);
    CHECK(not_gzip.error().what == "inflate the TazPod archive");
    auto not_tar = open_tazpod(bytes_of(tazpod_archive("pw", gzip_of(std::string(2048, 'x')))), bytes_of("pw"));
    REQUIRE_FALSE(not_tar);
    CHECK(not_tar.error().what == "read the tar inside the TazPod archive");
}
