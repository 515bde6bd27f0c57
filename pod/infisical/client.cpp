#include "pod/infisical/client.hpp"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "pod/formats/text.hpp"
#include "pod/net/json_secret.hpp"
#include "pod/unlock/unlock.hpp"
#include "vault/payload.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

using nlohmann::json;

// {"accessToken": "<token>"} for renew and revoke.
Result<SecretBuffer> token_body(const AccessToken& token) {
    auto body = SecretBuffer::copy_of(text_bytes("{\"accessToken\":"));
    if (!body) return body;
    GP_TRY(append_json_string(*body, token.token.bytes()));
    GP_TRY(body->push_back('}'));
    return body;
}

}  // namespace

std::string describe_server_error(long status, std::string_view body, unsigned attempts, std::string& message_out) {
    std::string why = std::to_string(status);
    json j = nests_deeper_than(body, kMaxJsonNesting) ? json(nullptr) : json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        std::string text = printable(body, 200);
        message_out = text;
        return why + (text.empty() ? "" : ": " + text) + (attempts > 1 ? " after " + std::to_string(attempts) + " attempts" : "");
    }
    std::string message;
    if (auto m = j.find("message"); m != j.end()) {
        if (m->is_string()) {
            message = m->get<std::string>();
        } else if (m->is_array()) {  // 422 ValidationFailure: a list of problems
            for (const auto& item : *m) {
                std::string one = item.is_object() && item.contains("message") && item["message"].is_string()
                                      ? item["message"].get<std::string>()
                                      : item.dump();
                if (item.is_object() && item.contains("path")) one = item["path"].dump() + " " + one;
                message += (message.empty() ? "" : "; ") + one;
            }
        }
    }
    message_out = message;
    if (auto e = j.find("error"); e != j.end() && e->is_string()) why += " " + e->get<std::string>();
    if (!message.empty()) why += ": " + printable(message, 300);
    if (auto id = j.find("reqId"); id != j.end() && id->is_string()) why += " (reqId " + printable(id->get<std::string>(), 80) + ")";
    if (attempts > 1) why += " after " + std::to_string(attempts) + " attempts";
    return why;
}

namespace {

std::string describe_failure(const HttpResponse& r, std::string& message_out) {
    return describe_server_error(r.status, r.body.view(), r.attempts, message_out);
}

std::string hint_for(long status, const std::string& step, const std::string& message) {
    if (message.find("temporarily locked") != std::string::npos)
        return "too many failed logins locked the identity for a few minutes; wait, then check it with 'ghostpod identity set'";
    if ((status == 401 || status == 404) && step.rfind("log in", 0) == 0)
        return "check the machine identity with 'ghostpod identity set' (client id and client secret)";
    if (status == 401 || status == 403) {
        if (message.find("expired") != std::string::npos || message.find("Token") != std::string::npos)
            return "the access token is no longer valid; run 'ghostpod pull' again to log in";
        return "give the machine identity read access to this project and environment in Infisical";
    }
    if (status == 404) return "check infisical.project_id, infisical.environment and infisical.paths in the config";
    if (status == 400 || status == 422) return "the server refused the request; check the infisical section of the config";
    if (status == 429) return "the server is rate-limiting this client; wait a minute and retry";
    if (status >= 500) return "the server failed; retry later, or use 'ghostpod pull --offline' for the last pull";
    return "";
}

Result<json> parse_answer(std::string_view body, const std::string& step) {
    if (nests_deeper_than(body, kMaxJsonNesting))
        return make_error(ErrorCode::network, step, "the server's answer nests absurdly deep",
                          "the server, or a proxy in front of it, misbehaves; check infisical.host");
    json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return make_error(ErrorCode::network, step, "the server's answer is not a JSON object",
                          "the server, or a proxy in front of it, misbehaves; check infisical.host");
    return j;
}


}  // namespace

const PulledSecret* PulledSecrets::find(const std::string& key) const {
    for (const auto& s : secrets)
        if (s.key == key) return &s;
    return nullptr;
}

std::string normalise_base_url(const std::string& host) {
    std::string url = host;
    while (!url.empty() && (url.back() == ' ' || url.back() == '\n')) url.pop_back();
    while (!url.empty() && url.front() == ' ') url.erase(url.begin());
    if (url.find("://") == std::string::npos) url = "https://" + url;
    while (url.size() > 1 && url.back() == '/') url.pop_back();
    if (!url.ends_with("/api")) url += "/api";
    return url;
}

Result<InfisicalClient> InfisicalClient::create(const InfisicalTarget& target, const HttpSettings& http) {
    auto client = HttpClient::create(http);
    if (!client) return std::move(client).error();
    return InfisicalClient(target, std::move(*client));
}

Result<HttpResponse> InfisicalClient::call(const std::string& step, const HttpRequest& request) {
    auto response = http_.send(request);
    if (!response) {
        Error e = std::move(response).error();
        e.what = step + ": " + e.what;
        return e;
    }
    if (response->status >= 200 && response->status < 300) return response;
    std::string message;
    std::string why = describe_failure(*response, message);
    Error e = make_error(ErrorCode::network, step, why, hint_for(response->status, step, message));
    e.errnum = static_cast<int>(response->status);  // the HTTP status, for callers that branch on it
    return e;
}

Result<AccessToken> read_token_answer(std::string_view body, const std::string& step) {
    auto parsed = parse_answer(body, step);
    if (!parsed) return std::move(parsed).error();
    WipedJson j{std::move(*parsed)};
    auto t = j.doc.find("accessToken");
    if (t == j.doc.end() || !t->is_string() || t->get_ref<const std::string&>().empty())
        return make_error(ErrorCode::network, step, "the answer has no accessToken", "the server does not speak Infisical's API");
    AccessToken token;
    auto copy = SecretBuffer::copy_of(text_bytes(t->get_ref<const std::string&>()));
    if (!copy) return std::move(copy).error();
    token.token = std::move(*copy);
    // Clamped: a lifetime beyond ten years is none a renewal timer needs to take literally.
    if (auto e = j.doc.find("expiresIn"); e != j.doc.end() && e->is_number_unsigned())
        token.expires_in = std::min<std::uint64_t>(e->get<std::uint64_t>(), 10ull * 365 * 86400);
    token.obtained_at = now_seconds();
    return token;
}

Result<AccessToken> InfisicalClient::login(std::span<const std::uint8_t> client_id, std::span<const std::uint8_t> client_secret) {
    auto body = SecretBuffer::copy_of(text_bytes("{\"clientId\":"));
    if (!body) return std::move(body).error();
    GP_TRY(append_json_string(*body, client_id));
    GP_TRY(body->append(text_bytes(",\"clientSecret\":")));
    GP_TRY(append_json_string(*body, client_secret));
    if (!target_.organization_slug.empty()) {
        GP_TRY(body->append(text_bytes(",\"organizationSlug\":")));
        GP_TRY(append_json_string(*body, text_bytes(target_.organization_slug)));
    }
    GP_TRY(body->push_back('}'));
    std::string step = "log in to " + target_.base_url;
    // Never an Authorization header here: a stale one turns a login into a 403.
    auto response = call(step, {true, target_.base_url + "/v1/auth/universal-auth/login", nullptr, &*body});
    if (!response) return std::move(response).error();
    return read_token_answer(response->body.view(), step);
}

Result<AccessToken> InfisicalClient::renew(const AccessToken& token) {
    auto body = token_body(token);
    if (!body) return std::move(body).error();
    std::string step = "renew the access token at " + target_.base_url;
    auto response = call(step, {true, target_.base_url + "/v1/auth/token/renew", nullptr, &*body});
    if (!response) return std::move(response).error();
    return read_token_answer(response->body.view(), step);
}

Status InfisicalClient::revoke(const AccessToken& token) {
    auto body = token_body(token);
    if (!body) return std::move(body).error();
    auto response = call("revoke the access token at " + target_.base_url,
                         {true, target_.base_url + "/v1/auth/token/revoke", nullptr, &*body});
    if (!response) return std::move(response).error();
    return {};
}

Result<HttpResponse> InfisicalClient::list_folder(const AccessToken& token, const std::string& path, BodySink* sink) {
    auto q = [&](const std::string& name, const std::string& value) { return name + "=" + http_.escape(value); };
    auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
    std::string step = "list secrets of " + target_.environment + ":" + path + " at " + target_.base_url;
    for (;;) {
        // Every flag explicitly: servers' defaults differ across versions.
        std::string url = target_.base_url + (use_v3_ ? "/v3/secrets/raw?" + q("workspaceId", target_.project_id) +
                                                            "&" + q("include_imports", flag(target_.include_imports))
                                                      : "/v4/secrets?" + q("projectId", target_.project_id) + "&" +
                                                            q("includeImports", flag(target_.include_imports)));
        url += "&" + q("environment", target_.environment) + "&" + q("secretPath", path) + "&" +
               q("recursive", flag(target_.recursive)) + "&" + q("expandSecretReferences", flag(target_.expand_references)) +
               "&viewSecretValue=true";
        HttpRequest request{false, url, &token.token, nullptr};
        request.sink = sink;  // a 2xx answer is read as it arrives
        auto response = http_.send(request);
        if (!response) {
            Error e = std::move(response).error();
            e.what = step + ": " + e.what;
            return e;
        }
        if (!use_v3_ && response->status == 404) {
            std::string message;
            (void)describe_failure(*response, message);
            // An older server without v4 ("Route GET:/api/v4/secrets not found"), or a 404 that is
            // not Infisical's at all (a proxy's page): the same answer may come from v3.
            auto body = json::parse(response->body.view().begin(), response->body.view().end(), nullptr, false);
            bool infisical_shaped = body.is_object() && body.contains("reqId") && body.contains("error");
            if (message.rfind("Route ", 0) == 0 || !infisical_shaped) {
                use_v3_ = true;
                continue;
            }
        }
        if (response->status >= 200 && response->status < 300) return response;
        std::string message;
        std::string why = describe_failure(*response, message);
        Error e = make_error(ErrorCode::network, step, why, hint_for(response->status, step, message));
        e.errnum = static_cast<int>(response->status);
        return e;
    }
}

Result<PulledSecrets> InfisicalClient::list(const AccessToken& token) {
    // Each answer is read while it downloads: the largest (10,000 secrets: 5 MB of JSON) is
    // never held whole, only its values, in secret memory.
    ListingBuilder listing(target_.base_url);
    for (const auto& path : target_.paths) {
        auto answer = list_folder(token, path, &listing);
        if (!answer) return std::move(answer).error();
        GP_TRY(listing.end_answer());  // a 2xx answer always went to the listing (streamed)
    }
    return listing.finish();
}

}  // namespace ghostpod
