#include "pod/hcvault/answers.hpp"

#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "pod/formats/text.hpp"
#include "pod/net/json_secret.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/payload.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxErrorsShown = 5;
constexpr std::uint64_t kMaxLeaseSeconds = 10ull * 365 * 86400;  // longer is "for good" to a renewal timer

Error bad_answer(const std::string& step, const std::string& why) {
    return make_error(ErrorCode::network, step, why, "the server does not speak Vault's API; check vault.address");
}

Result<WipedJson> parse(std::string_view body, const std::string& step) {
    json j = parse_json_object(body);
    if (j.is_discarded()) return bad_answer(step, "the server's answer is not a JSON object");
    return WipedJson(std::move(j));
}

const json* object_at(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_object() ? &*it : nullptr;
}

std::string string_at(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string describe_vault_error(long status, std::string_view body, unsigned attempts) {
    std::string why = std::to_string(status);
    json j = parse_json_object(body);
    std::string listed;
    if (!j.is_discarded()) {
        std::size_t shown = 0, total = 0;
        if (auto e = j.find("errors"); e != j.end() && e->is_array()) {
            for (const auto& item : *e) {
                if (!item.is_string()) continue;
                ++total;
                if (shown == kMaxErrorsShown) continue;
                // Vault's multierror text ("1 error occurred:\n\t* …\n\n") reads as one line.
                std::string text = item.get<std::string>();
                std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
                while (!text.empty() && text.back() == ' ') text.pop_back();
                listed += (shown++ ? "; " : "") + printable(text, 300);
            }
            if (total > shown) listed += "; and " + std::to_string(total - shown) + " more";
        }
        wipe_strings(j);
    } else {
        listed = printable(body, 200);
    }
    if (!listed.empty()) why += " " + listed;
    if (attempts > 1) why += " after " + std::to_string(attempts) + " attempts";
    return why;
}

Result<VaultToken> read_auth_answer(std::string_view body, const std::string& step) {
    auto j = parse(body, step);
    if (!j) return std::move(j).error();
    const json* auth = object_at(j->doc, "auth");
    const json* t = nullptr;
    if (auth)
        if (auto it = auth->find("client_token"); it != auth->end() && it->is_string()) t = &*it;
    if (!t || t->get_ref<const std::string&>().empty()) return bad_answer(step, "the answer has no auth.client_token");
    VaultToken token;
    auto copy = SecretBuffer::copy_of(text_bytes(t->get_ref<const std::string&>()));
    if (!copy) return std::move(copy).error();
    token.token = std::move(*copy);
    if (auto l = auth->find("lease_duration"); l != auth->end() && l->is_number_unsigned())
        token.lease_seconds = std::min<std::uint64_t>(l->get<std::uint64_t>(), kMaxLeaseSeconds);
    if (auto r = auth->find("renewable"); r != auth->end() && r->is_boolean()) token.renewable = r->get<bool>();
    token.obtained_at = now_seconds();
    return token;
}

Result<KvMount> read_mount_answer(std::string_view body, const std::string& step) {
    auto j = parse(body, step);
    if (!j) return std::move(j).error();
    const json* data = object_at(j->doc, "data");
    if (!data) return bad_answer(step, "the answer has no data");
    std::string type = string_at(*data, "type");
    KvMount m;
    m.mount = string_at(*data, "path");
    while (!m.mount.empty() && m.mount.back() == '/') m.mount.pop_back();
    if (type != "kv" && type != "generic")
        return make_error(ErrorCode::usage, step, "it is a " + printable(type.empty() ? "?" : type, 40) + " engine, not KV",
                          "vault.kv names KV secrets as MOUNT/PATH");
    if (m.mount.empty()) return bad_answer(step, "the answer names no mount path");
    if (const json* options = object_at(*data, "options")) m.version = string_at(*options, "version") == "2" ? 2 : 1;
    return m;
}

Status read_kv_answer(std::string_view body, int version, const std::string& mount, const std::string& path, KvPulled& into,
                      const std::string& step) {
    auto j = parse(body, step);
    if (!j) return std::move(j).error();
    const json* data = object_at(j->doc, "data");
    if (data && version == 2) data = object_at(*data, "data");
    if (!data) return bad_answer(step, version == 2 ? "the answer has no data.data object" : "the answer has no data object");
    if (into.values.data() == nullptr) {
        auto values = SecretBuffer::allocate(0);
        if (!values) return std::move(values).error();
        into.values = std::move(*values);
    }
    // nlohmann keeps object keys sorted: the keys come in a stable order.
    for (auto& [key, value] : data->items()) {
        std::string ghost = "vault/" + mount + "/" + path + "/" + key;
        if (key.find('/') != std::string::npos || !validate_entry_name(ghost)) {
            into.skipped.push_back(mount + "/" + path + "/" + printable(key, 80));
            continue;
        }
        KvSecret s{mount, path, key, into.values.size(), 0};
        if (value.is_string()) {
            GP_TRY(into.values.append(text_bytes(value.get_ref<const std::string&>())));
        } else {
            // The JSON text of anything else: dumped into a string first, zeroed after the copy.
            std::string text = value.dump();
            Status copied = into.values.append(text_bytes(text));
            sodium_memzero(text.data(), text.size());
            GP_TRY(copied);
        }
        s.length = into.values.size() - s.offset;
        into.secrets.push_back(std::move(s));
    }
    return {};
}

std::uint64_t deleted_version(std::string_view body) {
    WipedJson j(parse_json_object(body));
    if (j.doc.is_discarded()) return 0;
    const json* data = object_at(j.doc, "data");
    const json* metadata = data ? object_at(*data, "metadata") : nullptr;
    if (!metadata) return 0;
    auto v = metadata->find("version");
    return v != metadata->end() && v->is_number_unsigned() ? v->get<std::uint64_t>() : 0;
}

Result<SignedCertificate> read_sign_answer(std::string_view body, const std::string& step) {
    auto j = parse(body, step);
    if (!j) return std::move(j).error();
    const json* data = object_at(j->doc, "data");
    if (!data) return bad_answer(step, "the answer has no data");
    SignedCertificate c;
    c.certificate = string_at(*data, "certificate");
    if (c.certificate.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        return bad_answer(step, "the answer has no PEM data.certificate");
    if (auto chain = data->find("ca_chain"); chain != data->end() && chain->is_array()) {
        for (const auto& pem : *chain)
            if (pem.is_string()) c.chain += pem.get<std::string>() + "\n";
    }
    if (c.chain.empty()) c.chain = string_at(*data, "issuing_ca");
    c.serial_number = printable(string_at(*data, "serial_number"), 128);
    if (auto e = data->find("expiration"); e != data->end() && e->is_number_integer()) c.expiration = e->get<std::int64_t>();
    if (auto w = j->doc.find("warnings"); w != j->doc.end() && w->is_array())
        for (const auto& item : *w)
            if (item.is_string()) c.warnings.push_back(printable(item.get<std::string>(), 300));
    return c;
}

}  // namespace ghostpod
