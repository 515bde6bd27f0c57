#include "pod/hcvault/client.hpp"

#include <optional>

#include "pod/formats/text.hpp"
#include "pod/net/json_secret.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

const char* const kTokenHeader = "X-Vault-Token";

// What to do about a refusal, by status and by what was asked ("login", "kv PATH", "pki …").
std::string hint_for(long status, const std::string& topic, const std::string& why) {
    bool login = topic == "login";
    if (status == 400 && login)
        return "check the AppRole with 'ghostpod identity set --backend vault' (role_id, then secret_id)";
    if (status == 403 && login) return "check vault.auth.mount and vault.namespace: the server knows no such AppRole mount";
    if (status == 403) {
        if (topic.rfind("pki ", 0) == 0) return "give the AppRole's policy update access to " + topic.substr(4);
        return "give the AppRole's policy read access to " + topic + " (or check vault.namespace)";
    }
    if (status == 404) return "check vault.kv in the config: " + topic + " does not exist";
    if (status == 400 && topic.rfind("pki ", 0) == 0)
        return "the PKI role refused the request: check common_name and key_type in vault.pki against the role";
    if (status == 429) return "the server is rate-limiting this client; wait a minute and retry";
    if (status >= 500)
        return why.find("sealed") != std::string::npos ? "the server is sealed: unseal it, or use 'ghostpod pull --offline'"
                                                        : "the server failed; retry later, or use 'ghostpod pull --offline'";
    return "";
}

Result<SecretBuffer> login_body(std::span<const std::uint8_t> role_id, std::span<const std::uint8_t> secret_id) {
    auto body = SecretBuffer::copy_of(text_bytes("{\"role_id\":"));
    if (!body) return body;
    GP_TRY(append_json_string(*body, role_id));
    GP_TRY(body->append(text_bytes(",\"secret_id\":")));
    GP_TRY(append_json_string(*body, secret_id));
    GP_TRY(body->push_back('}'));
    return body;
}

Result<SecretBuffer> public_body(const std::string& text) { return SecretBuffer::copy_of(text_bytes(text)); }

HttpRequest with_token(bool post, std::string url, const VaultToken& token, const SecretBuffer* body) {
    HttpRequest r;
    r.post = post;
    r.url = std::move(url);
    r.json_body = body;
    r.secret_header_name = kTokenHeader;
    r.secret_header = &token.token;
    return r;
}

Error refusal(const std::string& step, const HttpResponse& response, const std::string& topic) {
    std::string why = describe_vault_error(response.status, response.body.view(), response.attempts);
    Error e = make_error(ErrorCode::network, step, why, hint_for(response.status, topic, why));
    e.errnum = static_cast<int>(response.status);  // the HTTP status, for callers that branch on it
    return e;
}

bool success(const HttpResponse& response) { return response.status >= 200 && response.status < 300; }

}  // namespace

std::optional<std::string> path_below_mount(const std::string& kv_path, std::string& mount) {
    for (;;) {
        if (kv_path.size() > mount.size() + 1 && kv_path.compare(0, mount.size(), mount) == 0 && kv_path[mount.size()] == '/')
            return kv_path.substr(mount.size() + 1);
        // A mount path that starts with (part of) the namespace: drop its first part, as the
        // vault CLI does (addPrefixToKVPath).
        auto slash = mount.find('/');
        if (slash == std::string::npos) return std::nullopt;
        mount = mount.substr(slash + 1);
    }
}

Result<VaultClient> VaultClient::create(const VaultTarget& target, const HttpSettings& http) {
    auto client = HttpClient::create(http);
    if (!client) return std::move(client).error();
    return VaultClient(target, std::move(*client));
}

Result<HttpResponse> VaultClient::call(const std::string& step, const HttpRequest& request, const std::string& topic,
                                       long also_accepted) {
    auto response = http_.send(request);
    if (!response) {
        Error e = std::move(response).error();
        e.what = step + ": " + e.what;
        return e;
    }
    if (success(*response) || response->status == also_accepted) return response;
    return refusal(step, *response, topic);
}

Result<VaultToken> VaultClient::login(std::span<const std::uint8_t> role_id, std::span<const std::uint8_t> secret_id) {
    auto body = login_body(role_id, secret_id);
    if (!body) return std::move(body).error();
    std::string step = "log in to " + target_.address + " (AppRole at auth/" + target_.auth_mount + ")";
    HttpRequest r;
    r.post = true;
    r.url = target_.address + "/v1/auth/" + target_.auth_mount + "/login";
    r.json_body = &*body;  // no token header: a stale one has no business on a login
    auto response = call(step, r, "login");
    if (!response) return std::move(response).error();
    return read_auth_answer(response->body.view(), step);
}

Result<VaultToken> VaultClient::renew(const VaultToken& token) {
    auto body = public_body("{}");
    if (!body) return std::move(body).error();
    std::string step = "renew the token at " + target_.address;
    auto response = call(step, with_token(true, target_.address + "/v1/auth/token/renew-self", token, &*body), "renew");
    if (!response) return std::move(response).error();
    return read_auth_answer(response->body.view(), step);
}

Status VaultClient::revoke(const VaultToken& token) {
    auto response = call("revoke the token at " + target_.address,
                         with_token(true, target_.address + "/v1/auth/token/revoke-self", token, nullptr), "revoke");
    if (!response) return std::move(response).error();
    return {};
}

Result<KvMount> VaultClient::kv_mount(const VaultToken& token, const std::string& kv_path) {
    std::string step = "find the KV mount of " + kv_path + " at " + target_.address;
    auto response = call(step, with_token(false, target_.address + "/v1/sys/internal/ui/mounts/" + kv_path, token, nullptr),
                         kv_path, 404);
    if (!response) return std::move(response).error();
    // A server without the preflight (before Vault 0.10) answers 404: KV version 1, as the CLI takes it.
    if (response->status == 404) return KvMount{"", 1};
    return read_mount_answer(response->body.view(), step);
}

Status VaultClient::read_kv(const VaultToken& token, const std::string& kv_path, KvPulled& into) {
    auto mount = kv_mount(token, kv_path);
    if (!mount) return std::move(mount).error();
    std::string name = mount->mount.empty() ? kv_path.substr(0, kv_path.find('/')) : mount->mount;
    auto below = path_below_mount(kv_path, name);
    if (!below)
        return make_error(ErrorCode::network, "read " + kv_path + " at " + target_.address,
                          "the server says it lies in mount " + printable(mount->mount, 100) + ", which is not part of it",
                          "check vault.kv and vault.namespace");
    std::string url = target_.address + "/v1/" + name + (mount->version == 2 ? "/data/" : "/") + *below;
    std::string step = "read " + kv_path + " (KV v" + std::to_string(mount->version) + ") at " + target_.address;
    auto response = call(step, with_token(false, url, token, nullptr), kv_path, 404);
    if (!response) return std::move(response).error();
    if (response->status == 404) {
        if (auto version = mount->version == 2 ? deleted_version(response->body.view()) : 0)
            return make_error(ErrorCode::network, step,
                              "404: its latest version (" + std::to_string(version) + ") is deleted or destroyed",
                              "undelete it ('vault kv undelete') or write a new version, or drop it from vault.kv");
        return refusal(step, *response, kv_path);
    }
    return read_kv_answer(response->body.view(), mount->version, name, *below, into, step);
}

Result<SignedCertificate> VaultClient::sign(const VaultToken& token, const std::string& mount, const std::string& role,
                                            const std::string& csr_pem, const std::string& common_name,
                                            std::uint64_t ttl_seconds) {
    nlohmann::json request = {{"csr", csr_pem}, {"common_name", common_name}, {"ttl", std::to_string(ttl_seconds) + "s"},
                              {"format", "pem"}};
    auto body = public_body(request.dump());
    if (!body) return std::move(body).error();
    std::string step = "have " + target_.address + " sign the session's client certificate (" + mount + "/sign/" + role + ")";
    auto response = call(step, with_token(true, target_.address + "/v1/" + mount + "/sign/" + role, token, &*body),
                         "pki " + mount + "/sign/" + role);
    if (!response) return std::move(response).error();
    return read_sign_answer(response->body.view(), step);
}

}  // namespace ghostpod
