// The Infisical client: Universal Auth login, token renew and revoke, and listing secrets of
// several folders with imports and the official precedence (see ../shared/infisical-api.md).
// Tokens, the client secret and every value stay in secret memory; errors carry the server's
// message, error name and reqId, never a value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pod/infisical/listing.hpp"
#include "pod/net/http.hpp"
#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

struct InfisicalTarget {
    std::string base_url;  // normalised: ends with /api
    std::string project_id;
    std::string environment;
    std::vector<std::string> paths = {"/"};
    bool recursive = false;
    bool include_imports = true;
    bool expand_references = true;
    std::string organization_slug;  // sent on login only when set
};

struct AccessToken {
    SecretBuffer token;
    std::uint64_t expires_in = 0;  // seconds; 0: never
    std::uint64_t obtained_at = 0; // unix time
};

// "host", "host/", "host/api", "host/api/" → "https://host/api"; a scheme is kept, https added
// when missing. Never produces "/api/api".
std::string normalise_base_url(const std::string& host);

class InfisicalClient {
public:
    static Result<InfisicalClient> create(const InfisicalTarget& target, const HttpSettings& http);

    Result<AccessToken> login(std::span<const std::uint8_t> client_id, std::span<const std::uint8_t> client_secret);
    Result<AccessToken> renew(const AccessToken& token);
    Status revoke(const AccessToken& token);
    // Every configured path, merged: a folder's own secrets beat its imports, a later import
    // beats an earlier one, and a later path beats an earlier one.
    Result<PulledSecrets> list(const AccessToken& token);

    // One time budget for everything this client does from now on (see HttpClient::start_budget).
    void start_budget() { http_.start_budget(); }
    const InfisicalTarget& target() const { return target_; }
    bool used_v3() const { return use_v3_; }

private:
    InfisicalClient(InfisicalTarget target, HttpClient http) : target_(std::move(target)), http_(std::move(http)) {}
    Result<HttpResponse> call(const std::string& step, const HttpRequest& request);
    Result<HttpResponse> list_folder(const AccessToken& token, const std::string& path, BodySink* sink);

    InfisicalTarget target_;
    HttpClient http_;
    bool use_v3_ = false;
};

// "401 UnauthorizedError: Invalid credentials (reqId req-1)" from an error answer: the server's
// status, error, message (a 422's list of problems joined) and reqId. `message_out` gets the
// message alone.
std::string describe_server_error(long status, std::string_view body, unsigned attempts, std::string& message_out);

// The access token from a 2xx login or renew answer ({"accessToken": …, "expiresIn": …}); the
// parser's copies of every string are wiped. `step` names the request in errors.
Result<AccessToken> read_token_answer(std::string_view body, const std::string& step);

}  // namespace ghostpod
