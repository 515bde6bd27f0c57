// HTTPS requests over libcurl for the Infisical and Vault clients: TLS always verified, connect
// and total timeouts, a cap on response size, and retries with exponential backoff and jitter on
// 429, 5xx and connection failures, honouring retry-after and bounded in total time. Bodies in
// both directions, and the header carrying a token, live in secret memory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

// The CA bundle a setting names, as a real path: "~/" is `home`, a relative path is taken from
// `base_dir` (the config's directory, or "." for a flag or variable). Exit-2 error naming
// `setting` when it does not resolve.
Result<std::string> resolve_ca_file(std::string path, const std::string& home, const std::string& base_dir,
                                    const std::string& setting);

struct HttpSettings {
    std::string cacert;                        // PEM bundle for a private CA; empty: the system store
    std::uint64_t connect_timeout_ms = 10'000;
    std::uint64_t request_timeout_ms = 60'000;  // one attempt, connect included
    std::uint64_t retry_budget_ms = 20'000;     // all attempts and waits together
    std::size_t max_response_bytes = 256u << 20;
    std::vector<std::string> extra_headers;    // "Name: value" (INFISICAL_CUSTOM_HEADERS, X-Vault-Namespace)
    // What to do about a failure, in the words of the backend's settings.
    struct Hints {
        std::string untrusted_tls = "the server's TLS certificate is not trusted; for a private CA pass --cacert FILE (or infisical.cacert)";
        std::string unreachable = "check the network and infisical.host; 'ghostpod pull --offline' uses the last pull";
        std::string too_large = "the server misbehaves, or the folder is huge: raise infisical.max_response_mib";
    } hints;
};

// Where a 2xx answer's body goes as it arrives instead of into HttpResponse::body (a large
// answer is then never held whole). restart() comes before every attempt: a retried download
// starts over. consume() returning false ends the transfer; the response is still returned.
class BodySink {
public:
    virtual ~BodySink() = default;
    virtual void restart() = 0;
    virtual bool consume(std::span<const std::uint8_t> bytes) = 0;
};

struct HttpRequest {
    bool post = false;
    std::string url;
    const SecretBuffer* bearer = nullptr;  // Authorization: Bearer <token> when set
    const SecretBuffer* json_body = nullptr;
    // "<secret_header_name>: <value>" when set (X-Vault-Token), built in secret memory too.
    const char* secret_header_name = nullptr;
    const SecretBuffer* secret_header = nullptr;
    BodySink* sink = nullptr;  // a 2xx answer's body goes there (any other status: into body)
};

struct HttpResponse {
    long status = 0;
    SecretBuffer body;     // empty when `streamed`
    bool streamed = false;  // the body went to the request's sink
    std::string retry_after;  // the header's value, when sent
    unsigned attempts = 1;
    std::uint64_t waited_ms = 0;  // time spent sleeping between attempts
};

class HttpClient {
public:
    static Result<HttpClient> create(const HttpSettings& settings);
    HttpClient(HttpClient&&) noexcept;
    HttpClient& operator=(HttpClient&&) noexcept;
    ~HttpClient();

    // One request with the retry policy. A response with any status is a success here; the
    // error is for when no usable response came (connection, TLS, timeout, size cap). A last
    // 429/5xx after the budget is spent is returned as a response.
    Result<HttpResponse> send(const HttpRequest& request);
    // From now on, every request shares one budget: no retry starts later than retry_budget_ms
    // from now, and no attempt runs past that plus request_timeout_ms. Without it, each request
    // has a budget of its own.
    void start_budget();
    // Percent-encodes a query value.
    std::string escape(const std::string& text);

private:
    HttpClient() = default;
    Result<HttpResponse> attempt(const HttpRequest& request);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// What a retry's wait is shown as on the pulling command's status line: "server busy (429),
// retrying in 2 s", "server error (503), …", "no answer from the server (<why>), …".
std::string retry_notice(long status, const std::string& transport_error, std::uint64_t delay_ms);
// Whether a status-line text is such a notice: a command with no status line (stderr no
// terminal) prints it as a line of its own.
bool is_retry_notice(const std::string& text);
// For its lifetime, every HttpClient in this process tells `listener` of each retry before it
// waits (the holder: the pulling client's status line). One at a time; an inner one wins and
// the outer one is back when it ends.
class RetryListener {
public:
    explicit RetryListener(std::function<void(const std::string&)> listener);
    ~RetryListener();
    RetryListener(const RetryListener&) = delete;
    RetryListener& operator=(const RetryListener&) = delete;

private:
    std::function<void(const std::string&)> listener_;
    const std::function<void(const std::string&)>* previous_;
};

// Whether a libcurl error code (as kept negated in Error::errnum by HttpClient) means the server
// could not be reached at all: no name, no connection, a timeout or a dropped connection.
bool transport_unreachable(int curl_code);
// Whether a status is worth another attempt (429 and the 5xx that mean "try later").
bool retryable_status(long status);

}  // namespace ghostpod
