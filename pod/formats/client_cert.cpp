#include "pod/formats/client_cert.hpp"

#include <sodium.h>
#include <yaml-cpp/yaml.h>

#include <string_view>

#include "pod/formats/text.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

// A kubeconfig or talosconfig is a few KiB.
constexpr std::size_t kMaxFileBytes = 4u << 20;
constexpr int kMaxDepth = 64;

Error refused(const std::string& why, const std::string& hint = {}) {
    return make_error(ErrorCode::usage, "put the session's client certificate into the file", why, hint);
}

// Base64 (standard alphabet, padded) of `bytes`, in secret memory, NUL-terminated for the YAML
// library (which copies it into its heap strings: pod/wipe_on_free.cpp zeroes those on free).
Result<SecretBuffer> base64_of(std::span<const std::uint8_t> bytes) {
    std::size_t n = sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
    auto out = SecretBuffer::allocate(n);
    if (!out) return out;
    sodium_bin2base64(reinterpret_cast<char*>(out->data()), n, bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
    return out;
}

// The document written again with the parsed styles that decide what a value is: a quoted
// scalar stays quoted (so "1" stays a string), an explicit tag stays, a flow collection stays flow.
Status emit(YAML::Emitter& out, const YAML::Node& node, int depth) {
    if (depth > kMaxDepth) return refused("the YAML nests too deep");
    const std::string& tag = node.Tag();
    if (!tag.empty() && tag != "?" && tag != "!") out << YAML::VerbatimTag(tag);
    switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null:
            out << YAML::Null;
            break;
        case YAML::NodeType::Scalar:
            if (tag == "!") out << YAML::DoubleQuoted;
            out << node.Scalar();
            break;
        case YAML::NodeType::Sequence:
            if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
            out << YAML::BeginSeq;
            for (const auto& item : node) GP_TRY(emit(out, item, depth + 1));
            out << YAML::EndSeq;
            break;
        case YAML::NodeType::Map:
            if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
            out << YAML::BeginMap;
            for (const auto& item : node) {
                out << YAML::Key;
                GP_TRY(emit(out, item.first, depth + 1));
                out << YAML::Value;
                GP_TRY(emit(out, item.second, depth + 1));
            }
            out << YAML::EndMap;
            break;
    }
    if (!out.good()) return refused("the YAML cannot be written back (" + printable(out.GetLastError(), 120) + ")");
    return {};
}

std::string scalar_or_empty(const YAML::Node& node) { return node && node.IsScalar() ? node.Scalar() : std::string(); }

std::string names_of(const YAML::Node& list, const char* key) {
    std::string out;
    std::size_t shown = 0;
    for (const auto& item : list) {
        if (!item.IsMap()) continue;
        if (shown++ == 8) {
            out += ", …";
            break;
        }
        out += (out.empty() ? "" : ", ") + printable(scalar_or_empty(item[key]), 64);
    }
    return out.empty() ? "none" : out;
}

// The kubeconfig user: named, else the current context's.
Result<YAML::Node> kube_user(YAML::Node& root, const std::string& wanted, std::string& name) {
    name = wanted;
    if (name.empty()) {
        std::string current = scalar_or_empty(root["current-context"]);
        if (current.empty()) return refused("the kubeconfig has no current-context, and vault.pki names no user", "set \"user\"");
        YAML::Node contexts = root["contexts"];
        if (contexts && contexts.IsSequence())
            for (const auto& c : contexts)
                if (c.IsMap() && scalar_or_empty(c["name"]) == current && c["context"].IsMap()) name = scalar_or_empty(c["context"]["user"]);
        if (name.empty())
            return refused("the kubeconfig's current context " + printable(current, 64) + " names no user", "set \"user\"");
    }
    YAML::Node users = root["users"];
    if (!users || !users.IsSequence())
        return refused("the kubeconfig has no users list", "add the user (\"users: [{name: " + printable(name, 64) + ", user: {}}]\")");
    for (auto item : users) {
        if (!item.IsMap() || scalar_or_empty(item["name"]) != name) continue;
        YAML::Node user = item["user"];
        if (!user || user.IsNull()) {
            item["user"] = YAML::Node(YAML::NodeType::Map);
            user = item["user"];
        }
        if (!user.IsMap()) return refused("the kubeconfig's user " + printable(name, 64) + " is not a map");
        return user;
    }
    return refused("the kubeconfig has no user " + printable(name, 64) + " (users: " + names_of(users, "name") + ")",
                   "add it with an empty \"user: {}\", or name another in vault.pki");
}

// The talosconfig context: named, else the current one.
Result<YAML::Node> talos_context(YAML::Node& root, const std::string& wanted, std::string& name) {
    name = wanted.empty() ? scalar_or_empty(root["context"]) : wanted;
    if (name.empty()) return refused("the talosconfig has no current context, and vault.pki names none", "set \"context\"");
    YAML::Node contexts = root["contexts"];
    if (!contexts || !contexts.IsMap()) return refused("the talosconfig has no contexts map");
    for (auto item : contexts) {
        if (scalar_or_empty(item.first) != name) continue;
        if (!item.second.IsMap()) return refused("the talosconfig's context " + printable(name, 64) + " is not a map");
        return item.second;
    }
    std::string known;
    for (const auto& item : contexts) known += (known.empty() ? "" : ", ") + printable(scalar_or_empty(item.first), 64);
    return refused("the talosconfig has no context " + printable(name, 64) + " (contexts: " + (known.empty() ? "none" : known) + ")",
                   "name one of them in vault.pki");
}

// Whether a document marker ("---" starting one, "..." ending one) follows content: a second
// document, or the end of the first with more after it. Comments, blank lines and directives
// before the first "---" are not content.
bool later_document_marker(std::string_view text) {
    bool content = false;
    for (std::size_t start = 0; start < text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        bool marker = line.substr(0, 3) == "---" || line.substr(0, 3) == "...";
        if (marker && content) return true;
        if (marker) {
            content = line.size() > 3 && line.find_first_not_of(" \t\r", 3) != std::string_view::npos;  // "--- {a: 1}"
            continue;
        }
        std::size_t first = line.find_first_not_of(" \t\r");
        if (first != std::string_view::npos && line[first] != '#' && line[first] != '%') content = true;
    }
    return false;
}

}  // namespace

Result<SecretBuffer> set_client_certificate(std::span<const std::uint8_t> file, const ClientCertPlace& place,
                                            std::span<const std::uint8_t> cert_pem, std::span<const std::uint8_t> key_pem,
                                            std::string* chosen) {
    bool kube = place.format == ClientCertFormat::kubeconfig;
    const char* kind = kube ? "kubeconfig" : "talosconfig";
    if (file.size() > kMaxFileBytes) return refused(std::string("the ") + kind + " is larger than 4 MiB");
    std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
    if (text.find('\0') != std::string_view::npos) return refused(std::string("the file is not a ") + kind + " (it holds NUL bytes)");
    auto cert = base64_of(cert_pem);
    if (!cert) return std::move(cert).error();
    auto key = base64_of(key_pem);
    if (!key) return std::move(key).error();
    try {
        // One document: yaml-cpp's LoadAll never returns on some inputs (0.7: ",:}" loops in
        // its parser), so the first document is loaded alone and a second is looked for by its
        // marker, a line starting "---" or "..." after the first line.
        if (later_document_marker(text))
            return refused(std::string("the file is not a ") + kind + " (one YAML document holding a map)");
        YAML::Node root = YAML::Load(std::string(text));
        if (!root.IsMap()) return refused(std::string("the file is not a ") + kind + " (one YAML document holding a map)");
        std::string name;
        auto target = kube ? kube_user(root, place.name, name) : talos_context(root, place.name, name);
        if (!target) return std::move(target).error();
        YAML::Node at = *target;
        const char* cert_field = kube ? "client-certificate-data" : "crt";
        const char* key_field = kube ? "client-key-data" : "key";
        at[cert_field] = std::string(reinterpret_cast<const char*>(cert->data()));
        at[key_field] = std::string(reinterpret_cast<const char*>(key->data()));
        if (kube) {
            at.remove(std::string("client-certificate"));
            at.remove(std::string("client-key"));
        }
        at.SetStyle(YAML::EmitterStyle::Block);  // an empty "user: {}" would otherwise carry the key on one line
        YAML::Emitter out;
        GP_TRY(emit(out, root, 0));
        auto written = SecretBuffer::copy_of(text_bytes(std::string_view(out.c_str(), out.size())));
        sodium_memzero(const_cast<char*>(out.c_str()), out.size());
        if (!written) return std::move(written).error();
        GP_TRY(written->push_back('\n'));
        if (chosen) *chosen = name;
        return written;
    } catch (const YAML::Exception& e) {
        // e.what() may quote a byte of the file; only the position is safe to show.
        std::string where = e.mark.is_null() ? "" : " (line " + std::to_string(e.mark.line + 1) + ")";
        return refused(std::string("the file is not valid YAML") + where);
    }
}

}  // namespace ghostpod
