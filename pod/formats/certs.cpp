#include "pod/formats/certs.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>

#include "pod/formats/text.hpp"

namespace ghostpod {
namespace {

// A kubeconfig or talosconfig is a few KiB; a bigger value is not parsed as YAML.
constexpr std::size_t kMaxYamlBytes = 4u << 20;
// Context, cluster and user names go into labels; longer ones are cut.
constexpr std::size_t kMaxLabelName = 128;
// The longest PEM type we accept on a BEGIN line ("ENCRYPTED PRIVATE KEY" is 21).
constexpr std::size_t kMaxPemType = 64;
// A value with thousands of broken blocks gets this many problems and a count of the rest.
constexpr std::size_t kMaxProblemsPerValue = 10;

using UniqueX509 = std::unique_ptr<X509, decltype(&X509_free)>;
using UniqueBio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Problems = std::vector<std::string>*;

void add_problem(Problems problems, std::string text) {
    if (problems != nullptr) problems->push_back(std::move(text));
}

std::string_view as_text(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Names from YAML keys end up in labels shown on a terminal: printable ASCII only.
std::string printable_name(std::string_view name) { return printable(name, kMaxLabelName); }

// RFC 2253 form; its escaping keeps control and non-ASCII bytes out of the text.
std::string name_text(const X509_NAME* name) {
    UniqueBio bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "?";
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

bool to_unix(const ASN1_TIME* time, std::int64_t& out) {
    std::tm tm{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return false;
    out = static_cast<std::int64_t>(timegm(&tm));
    return true;
}

void add_certificate(const X509* x509, const std::string& source, std::vector<CertInfo>& out, Problems problems) {
    CertInfo info;
    info.source = source;
    if (!to_unix(X509_get0_notBefore(x509), info.not_before) || !to_unix(X509_get0_notAfter(x509), info.not_after)) {
        add_problem(problems, source + ": the certificate's validity dates cannot be read");
        return;
    }
    info.subject = name_text(X509_get_subject_name(x509));
    info.issuer = name_text(X509_get_issuer_name(x509));
    out.push_back(std::move(info));
}

// A certificate block carrying a Proc-Type header would otherwise make OpenSSL ask for a
// password on the terminal.
int no_password(char*, int, int, void*) { return -1; }

UniqueX509 der_certificate(std::span<const std::uint8_t> bytes) {
    const unsigned char* p = bytes.data();
    UniqueX509 x509(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())), X509_free);
    if (!x509 || p != bytes.data() + bytes.size()) {
        ERR_clear_error();
        return {nullptr, X509_free};
    }
    return x509;
}

struct PemBlock {
    std::string_view type;   // "CERTIFICATE", "PRIVATE KEY", …
    std::string_view whole;  // BEGIN line to END line
    bool complete = false;   // an END line was found
};

// Where the PEM blocks of `text` are. Nothing is decoded here; a block without its END line
// ends the scan, since what follows belongs to it.
std::vector<PemBlock> pem_blocks(std::string_view text) {
    constexpr std::string_view kBegin = "-----BEGIN ", kDashes = "-----";
    std::vector<PemBlock> blocks;
    std::size_t pos = 0;
    while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
        std::size_t type_start = pos + kBegin.size();
        std::size_t type_end = text.find(kDashes, type_start);
        if (type_end == std::string_view::npos || type_end - type_start > kMaxPemType ||
            text.substr(type_start, type_end - type_start).find('\n') != std::string_view::npos) {
            blocks.push_back({{}, text.substr(pos), false});
            break;
        }
        std::string_view type = text.substr(type_start, type_end - type_start);
        std::string end_line = "-----END " + std::string(type) + "-----";
        std::size_t end = text.find(end_line, type_end);
        if (end == std::string_view::npos) {
            blocks.push_back({type, text.substr(pos), false});
            break;
        }
        blocks.push_back({type, text.substr(pos, end + end_line.size() - pos), true});
        pos = end + end_line.size();
    }
    return blocks;
}

bool is_certificate_type(std::string_view type) {
    return type == "CERTIFICATE" || type == "X509 CERTIFICATE" || type == "TRUSTED CERTIFICATE";
}

void certs_from_pem(const std::vector<PemBlock>& blocks, const std::string& label, bool number_blocks,
                    std::vector<CertInfo>& out, Problems problems) {
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        const PemBlock& block = blocks[i];
        std::string source = number_blocks ? label + " PEM block " + std::to_string(i + 1) : label;
        if (block.type.empty()) {
            add_problem(problems, source + ": malformed BEGIN line");
            continue;
        }
        if (!is_certificate_type(block.type)) continue;  // keys and everything else: never decoded
        if (!block.complete) {
            add_problem(problems, source + ": truncated certificate (no END line)");
            continue;
        }
        UniqueBio bio(BIO_new_mem_buf(block.whole.data(), static_cast<int>(block.whole.size())), BIO_free);
        // A TRUSTED CERTIFICATE carries trust settings after the certificate; only _AUX reads it.
        auto read = block.type == "TRUSTED CERTIFICATE" ? PEM_read_bio_X509_AUX : PEM_read_bio_X509;
        UniqueX509 x509(bio ? read(bio.get(), nullptr, no_password, nullptr) : nullptr, X509_free);
        if (!x509) {
            ERR_clear_error();
            add_problem(problems, source + ": not a valid certificate (damaged base64 or DER)");
            continue;
        }
        add_certificate(x509.get(), source, out, problems);
    }
}

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text) {
    std::vector<std::uint8_t> out(text.size() / 4 * 3 + 3);
    std::size_t length = 0;
    const char* end = nullptr;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), " \t\r\n", &length, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text.data() + text.size())
        return std::nullopt;
    out.resize(length);
    return out;
}

// A base64 field of a talosconfig or kubeconfig: PEM (one block or a bundle) or DER.
void certs_from_field(const YAML::Node& field, const std::string& source, std::vector<CertInfo>& out,
                      Problems problems) {
    if (!field || !field.IsScalar() || field.Scalar().empty()) return;
    auto decoded = decode_base64(field.Scalar());
    if (!decoded) return add_problem(problems, source + ": not base64");
    auto blocks = pem_blocks(as_text(*decoded));
    if (!blocks.empty()) return certs_from_pem(blocks, source, blocks.size() > 1, out, problems);
    if (auto x509 = der_certificate(*decoded)) return add_certificate(x509.get(), source, out, problems);
    add_problem(problems, source + ": not a certificate");
}

// "name" of a kubeconfig list item, else its position.
std::string item_name(const YAML::Node& item, std::size_t index) {
    const YAML::Node name = item["name"];
    return name && name.IsScalar() ? printable_name(name.Scalar()) : std::to_string(index);
}

void certs_from_named_list(const YAML::Node& list, const char* list_key, const char* inner_key, const char* field,
                           const std::string& label, std::vector<CertInfo>& out, Problems problems) {
    if (!list || !list.IsSequence()) return;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const YAML::Node item = list[i];
        if (!item.IsMap()) continue;
        const YAML::Node inner = item[inner_key];
        if (!inner || !inner.IsMap()) continue;
        std::string place = std::string(list_key) + "[" + item_name(item, i) + "]." + field;
        certs_from_field(inner[field], label + " " + place, out, problems);
    }
}

// Parsing copies the whole value, keys included, into yaml-cpp's heap strings; the ghostpod
// binary wipes every heap block it frees (pod/wipe_on_free.cpp), so the copies do not linger.
void certs_from_yaml(std::string_view text, const std::string& label, std::vector<CertInfo>& out, Problems problems) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        // e.what() may quote a character of the value; only the position is safe to show.
        std::string where = e.mark.is_null() ? "" : " (line " + std::to_string(e.mark.line + 1) + ")";
        return add_problem(problems, label + ": not valid YAML" + where + "; no certificates read from it");
    }
    try {
        if (!root.IsMap()) return;
        // talosconfig: contexts is a map of name → {endpoints, ca, crt, key}.
        const YAML::Node contexts = root["contexts"];
        if (contexts && contexts.IsMap()) {
            for (auto it = contexts.begin(); it != contexts.end(); ++it) {
                if (!it->second.IsMap()) continue;
                std::string name = it->first.IsScalar() ? printable_name(it->first.Scalar()) : "?";
                for (const char* field : {"ca", "crt"})
                    certs_from_field(it->second[field], label + " contexts." + name + "." + field, out, problems);
            }
        }
        // kubeconfig: lists of {name, cluster: {…}} and {name, user: {…}}.
        certs_from_named_list(root["clusters"], "clusters", "cluster", "certificate-authority-data", label, out, problems);
        certs_from_named_list(root["users"], "users", "user", "client-certificate-data", label, out, problems);
    } catch (const YAML::Exception&) {
        add_problem(problems, label + ": unexpected YAML structure; certificates in it may be missing");
    }
}

// Only values that name a certificate field are parsed as YAML, so that a shell script or a
// binary blob elsewhere in the vault neither costs a parse nor earns a "not YAML" message.
bool may_hold_certificate_fields(std::string_view text) {
    auto has = [&](std::string_view word) { return text.find(word) != std::string_view::npos; };
    if (has(std::string_view("\0", 1))) return false;
    return has("certificate-authority-data") || has("client-certificate-data") ||
           (has("contexts") && (has("crt:") || has("ca:")));
}


void find_in_value(const std::string& label, std::span<const std::uint8_t> bytes, std::vector<CertInfo>& certs,
                   Problems problems) {
    std::string_view text = as_text(bytes);
    auto blocks = pem_blocks(text);
    if (!blocks.empty()) {
        certs_from_pem(blocks, label, true, certs, problems);
    } else if (!bytes.empty() && bytes[0] == 0x30) {  // an ASN.1 SEQUENCE: perhaps a DER certificate
        if (auto x509 = der_certificate(bytes)) add_certificate(x509.get(), label + " DER", certs, problems);
    } else if (may_hold_certificate_fields(text)) {
        if (text.size() > kMaxYamlBytes)
            add_problem(problems, label + ": too large to read as YAML (over " + std::to_string(kMaxYamlBytes >> 20) + " MiB)");
        else
            certs_from_yaml(text, label, certs, problems);
    }
}

}  // namespace

std::vector<CertInfo> find_certificates(const std::string& label, std::span<const std::uint8_t> bytes,
                                        std::vector<std::string>* problems) {
    std::vector<CertInfo> certs;
    std::vector<std::string> found_problems;
    find_in_value(label, bytes, certs, problems != nullptr ? &found_problems : nullptr);
    if (found_problems.size() > kMaxProblemsPerValue) {
        std::size_t more = found_problems.size() - kMaxProblemsPerValue;
        found_problems.resize(kMaxProblemsPerValue);
        found_problems.push_back(label + ": " + std::to_string(more) + " more problems like these");
    }
    if (problems != nullptr) problems->insert(problems->end(), found_problems.begin(), found_problems.end());
    return certs;
}

}  // namespace ghostpod
