#include "pod/unlock/identity_pin.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kMaxCaFileBytes = 1u << 20;

std::string lower(std::string text) {
    for (char& c : text)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return text;
}

struct UrlParts {
    std::string scheme, host, port, path;
};

Error bad_url(const std::string& url, const std::string& key, const std::string& why) {
    return make_error(ErrorCode::usage, "use " + url + (key.empty() ? "" : " (" + key + ")"), why,
                      "give the server as https://HOST[:PORT] (http:// only for 127.0.0.1, ::1 or localhost)");
}

// The URL as curl itself will read it, so that what is checked is what is connected to.
Result<UrlParts> split_url(const std::string& url, const std::string& key) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return bad_url(url, key, "not a URL");
    auto part = [&](CURLUPart which) -> std::optional<std::string> {
        char* text = nullptr;
        if (curl_url_get(u.get(), which, &text, 0) != CURLUE_OK || text == nullptr) return std::nullopt;
        std::string out = text;
        curl_free(text);
        return out;
    };
    if (part(CURLUPART_USER) || part(CURLUPART_PASSWORD)) return bad_url(url, key, "it must not hold a user name or password");
    if (part(CURLUPART_QUERY) || part(CURLUPART_FRAGMENT)) return bad_url(url, key, "it must not have a query or fragment");
    UrlParts p;
    p.scheme = lower(part(CURLUPART_SCHEME).value_or(""));
    p.host = lower(part(CURLUPART_HOST).value_or(""));
    p.port = part(CURLUPART_PORT).value_or("");
    p.path = part(CURLUPART_PATH).value_or("/");
    if (p.scheme != "https" && p.scheme != "http") return bad_url(url, key, "only https:// (or http:// to this machine) is spoken");
    if (p.host.empty()) return bad_url(url, key, "it names no host");
    if ((p.scheme == "https" && p.port == "443") || (p.scheme == "http" && p.port == "80")) p.port.clear();
    while (p.path.size() > 1 && p.path.back() == '/') p.path.pop_back();
    if (p.path == "/") p.path.clear();
    return p;
}

bool loopback(const std::string& host) {
    if (host == "localhost") return true;  // curl resolves it to the loopback itself (RFC 6761)
    in_addr v4 {};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        in6_addr v6 {};
        return ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
    }
    return false;
}

std::string fingerprint_text(const unsigned char* md, unsigned int n) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
        if (i) out += ':';
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 15];
    }
    return out;
}

std::string short_fingerprints(const std::vector<std::string>& list) {
    std::string out;
    for (const auto& f : list) out += (out.empty() ? "" : ", ") + f.substr(0, 23) + "…";
    return out;
}

}  // namespace

std::string pin_entry_name(std::string_view backend) { return std::string(backend) + ".pin"; }

Result<std::optional<IdentityPin>> read_pin(const Vault& vault, std::string_view backend) {
    const Entry* entry = vault.find(pin_entry_name(backend));
    if (entry == nullptr) return std::optional<IdentityPin>{};
    // Only 'identity set' and a first pull write kind identity; a file secret of that name (an
    // import, a 'secret set') is refused rather than believed.
    if (entry->kind != EntryKind::identity)
        return make_error(ErrorCode::usage, "read " + pin_entry_name(backend) + " in the vault", "it is a secret of kind " +
                          std::string(kind_name(entry->kind)) + ", not an identity pin",
                          "remove it ('ghostpod secret rm " + pin_entry_name(backend) + "') and pin with 'ghostpod identity set --host URL'");
    auto value = entry->value();
    auto j = nlohmann::json::parse(value.begin(), value.end(), nullptr, false);
    IdentityPin pin;
    try {
        pin.backend = j.at("backend").get<std::string>();
        pin.base_url = j.at("base_url").get<std::string>();
        pin.ca_sha256 = j.at("ca_sha256").get<std::vector<std::string>>();
        pin.pinned_by = j.value("pinned_by", "");
        pin.pinned_at = j.value("pinned_at", std::uint64_t{0});
    } catch (const nlohmann::json::exception&) {
        return make_error(ErrorCode::runtime, "read " + pin_entry_name(backend) + " in the vault", "it is not a pin this ghostpod reads",
                          "store the identity again with 'ghostpod identity set --host URL'");
    }
    if (pin.backend != backend) return make_error(ErrorCode::runtime, "read " + pin_entry_name(backend), "it pins another backend");
    return std::optional<IdentityPin>(std::move(pin));
}

Status store_pin(Vault& vault, const IdentityPin& pin) {
    nlohmann::json j = {{"backend", pin.backend}, {"base_url", pin.base_url}, {"ca_sha256", pin.ca_sha256},
                        {"pinned_by", pin.pinned_by}, {"pinned_at", pin.pinned_at}};
    std::string text = j.dump();
    Entry entry;
    entry.name = pin_entry_name(pin.backend);
    entry.kind = EntryKind::identity;
    entry.mode = 0400;
    entry.updated = pin.pinned_at;
    entry.source = pin.pinned_by;
    return vault.put(std::move(entry), text_bytes(text));
}

bool remove_pin(Vault& vault, std::string_view backend) { return vault.remove(pin_entry_name(backend)); }

Result<std::string> canonical_url(const std::string& url, const std::string& key) {
    auto p = split_url(url, key);
    if (!p) return std::move(p).error();
    return p->scheme + "://" + p->host + (p->port.empty() ? "" : ":" + p->port) + p->path;
}

Status check_transport(const std::string& url, const std::string& key) {
    auto p = split_url(url, key);
    if (!p) return std::move(p).error();
    if (p->scheme == "http" && !loopback(p->host))
        return make_error(ErrorCode::usage, "use " + url + (key.empty() ? "" : " (" + key + ")"),
                          "plain http:// would carry the identity, the token and every value unencrypted; it is accepted only "
                          "for 127.0.0.1, ::1 and localhost",
                          "use https://");
    return {};
}

Result<std::vector<std::string>> ca_fingerprints(const std::string& pem_path) {
    auto bytes = read_file(pem_path, kMaxCaFileBytes);
    if (!bytes) return std::move(bytes).error();
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(bytes->data(), static_cast<int>(bytes->size())), BIO_free);
    std::vector<std::string> out;
    while (bio) {
        X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (cert == nullptr) break;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (X509_digest(cert, EVP_sha256(), md, &n) == 1) out.push_back(fingerprint_text(md, n));
        X509_free(cert);
    }
    if (out.empty())
        return make_error(ErrorCode::usage, "read the CA file " + pem_path, "it holds no PEM certificate",
                          "name the PEM file of the CA that signed the server's certificate");
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Result<IdentityPin> make_pin(std::string backend, const std::string& base_url, const std::string& cacert, std::string pinned_by,
                             std::uint64_t now) {
    IdentityPin pin;
    pin.backend = std::move(backend);
    auto url = canonical_url(base_url, "");
    if (!url) return std::move(url).error();
    GP_TRY(check_transport(base_url, ""));
    pin.base_url = *url;
    if (!cacert.empty()) {
        auto prints = ca_fingerprints(cacert);
        if (!prints) return std::move(prints).error();
        pin.ca_sha256 = std::move(*prints);
    }
    pin.pinned_by = std::move(pinned_by);
    pin.pinned_at = now;
    return pin;
}

Status check_pin(const IdentityPin& pin, const std::string& base_url, const std::string& cacert, const std::string& repin_hint) {
    auto url = canonical_url(base_url, "");
    if (!url) return std::move(url).error();
    std::string refused = "send the machine identity to " + base_url;
    if (*url != pin.base_url)
        return make_error(ErrorCode::usage, refused,
                          "the identity in the vault is pinned to " + pin.base_url + "; nothing was sent",
                          "if that server is the identity's, pin it: " + repin_hint);
    std::vector<std::string> prints;
    if (!cacert.empty()) {
        auto read = ca_fingerprints(cacert);
        if (!read) return std::move(read).error();
        prints = std::move(*read);
    }
    if (prints != pin.ca_sha256)
        return make_error(ErrorCode::usage, refused,
                          "the identity is pinned to TLS verified by " +
                              (pin.ca_sha256.empty() ? std::string("the system's CAs") : "the CA " + short_fingerprints(pin.ca_sha256)) +
                              ", and this pull would trust " +
                              (prints.empty() ? std::string("the system's CAs") : "the CA file " + cacert + " (" + short_fingerprints(prints) + ")") +
                              "; nothing was sent",
                          "if that CA is the identity's, pin it: " + repin_hint + " --cacert FILE");
    return {};
}

std::string describe_pin(const IdentityPin& pin) {
    std::string out = pin.base_url + ", TLS verified by ";
    if (pin.ca_sha256.empty()) return out + "the system's CAs";
    out += "the CA SHA256 ";
    for (std::size_t i = 0; i < pin.ca_sha256.size(); ++i) out += (i ? ", " : "") + pin.ca_sha256[i];
    return out;
}

}  // namespace ghostpod
