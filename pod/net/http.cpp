#include "pod/net/http.hpp"

#include "vault/unique_fd.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <climits>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#ifndef GHOSTPOD_VERSION
#define GHOSTPOD_VERSION "0.0.0"
#endif

namespace ghostpod {

Result<std::string> resolve_ca_file(std::string path, const std::string& home, const std::string& base_dir,
                                    const std::string& setting) {
    if (path.rfind("~/", 0) == 0 && !home.empty()) path = home + path.substr(1);
    if (!path.empty() && path[0] != '/') path = base_dir + "/" + path;
    char resolved[PATH_MAX];
    if (path.empty() || !::realpath(path.c_str(), resolved))
        return make_error(ErrorCode::usage, "use CA file " + path, std::strerror(errno), setting + " must name a PEM file");
    return std::string(resolved);
}
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kFirstBackoffMs = 250;
constexpr std::uint64_t kMaxBackoffMs = 8'000;
constexpr unsigned kMaxAttempts = 10;

struct Exchange {
    CURL* curl = nullptr;
    SecretBuffer body;
    bool sized = false;  // reserved for the announced length: a 10,000-secret answer is not regrown
    std::size_t cap = 0;
    bool too_large = false;
    std::string retry_after;
    BodySink* sink = nullptr;
    enum class Into { undecided, sink, body } into = Into::undecided;  // decided by the status, at the first byte
    std::size_t streamed = 0;
    bool sink_refused = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* x = static_cast<Exchange*>(user);
    std::size_t n = size * count;
    if (x->into == Exchange::Into::undecided) {
        long status = 0;
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
        x->into = x->sink && status >= 200 && status < 300 ? Exchange::Into::sink : Exchange::Into::body;
    }
    if (x->into == Exchange::Into::sink) {
        if (n > x->cap - x->streamed) {
            x->too_large = true;
            return 0;
        }
        x->streamed += n;
        if (!x->sink->consume({reinterpret_cast<const std::uint8_t*>(data), n})) {
            x->sink_refused = true;
            return 0;  // the sink knows why; the transfer ends here
        }
        return n;
    }
    if (x->body.size() + n > x->cap) {
        x->too_large = true;
        return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    if (!x->sized && x->body.empty()) {
        x->sized = true;
        curl_off_t announced = -1;
        if (curl_easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK && announced > 0 &&
            static_cast<std::uint64_t>(announced) <= x->cap) {
            auto room = SecretBuffer::allocate(static_cast<std::size_t>(announced));  // its capacity stays
            if (!room) return 0;
            room->truncate(0);
            x->body = std::move(*room);
        }
    }
    if (!x->body.append({reinterpret_cast<const std::uint8_t*>(data), n})) return 0;
    return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* x = static_cast<Exchange*>(user);
    std::size_t n = size * count;
    std::string_view line(data, n);
    constexpr std::string_view kName = "retry-after:";
    if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
        std::string_view value = line.substr(kName.size());
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
        x->retry_after = std::string(value);
    }
    return n;
}

bool retryable_transport(CURLcode code) {
    switch (code) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_COULDNT_RESOLVE_HOST:
            return true;
        default:
            return false;
    }
}

// The retry-after header in whole seconds (the HTTP-date form is not used by Infisical).
std::optional<std::uint64_t> retry_after_ms(const std::string& value) {
    std::uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size() || seconds > 3600) return std::nullopt;
    return seconds * 1000;
}

std::uint64_t jittered_backoff(unsigned attempt) {
    std::uint64_t ceiling = std::min<std::uint64_t>(kMaxBackoffMs, kFirstBackoffMs << std::min(attempt, 10u));
    // "Equal jitter": half fixed, half random, so retries from many clients spread out.
    return ceiling / 2 + randombytes_uniform(static_cast<std::uint32_t>(ceiling / 2 + 1));
}

const std::function<void(const std::string&)>* g_retry_listener = nullptr;
constexpr std::string_view kRetrying = ", retrying in ";

void global_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct HttpClient::Impl {
    CURL* curl = nullptr;
    HttpSettings settings;
    std::optional<Clock::time_point> deadline;  // no attempt runs past it, no retry starts after retry_until
    std::optional<Clock::time_point> retry_until;
    ~Impl() {
        if (curl) curl_easy_cleanup(curl);
    }
};

std::string retry_notice(long status, const std::string& transport_error, std::uint64_t delay_ms) {
    std::string what = status == 429  ? "server busy (429)"
                       : status != 0  ? "server error (" + std::to_string(status) + ")"
                                      : "no answer from the server (" + transport_error + ")";
    std::string when = delay_ms < 950 ? "0." + std::to_string((delay_ms + 50) / 100) + " s" : std::to_string((delay_ms + 500) / 1000) + " s";
    return what + std::string(kRetrying) + when;
}

bool is_retry_notice(const std::string& text) {
    return text.find(kRetrying) != std::string::npos && text.size() > 2 && text.compare(text.size() - 2, 2, " s") == 0;
}

RetryListener::RetryListener(std::function<void(const std::string&)> listener)
    : listener_(std::move(listener)), previous_(g_retry_listener) {
    g_retry_listener = &listener_;
}

RetryListener::~RetryListener() { g_retry_listener = previous_; }

bool transport_unreachable(int curl_code) { return retryable_transport(static_cast<CURLcode>(curl_code)); }

bool retryable_status(long status) { return status == 429 || status == 500 || status == 502 || status == 503 || status == 504; }

HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;
HttpClient::~HttpClient() = default;

Result<HttpClient> HttpClient::create(const HttpSettings& settings) {
    global_init_once();
    HttpClient client;
    client.impl_ = std::make_unique<Impl>();
    client.impl_->settings = settings;
    client.impl_->curl = curl_easy_init();
    if (!client.impl_->curl) return make_error(ErrorCode::runtime, "initialise libcurl", "curl_easy_init failed");
    return client;
}

void HttpClient::start_budget() {
    auto now = Clock::now();
    impl_->retry_until = now + std::chrono::milliseconds(impl_->settings.retry_budget_ms);
    impl_->deadline = *impl_->retry_until + std::chrono::milliseconds(impl_->settings.request_timeout_ms);
}

std::string HttpClient::escape(const std::string& text) {
    char* escaped = curl_easy_escape(impl_->curl, text.c_str(), static_cast<int>(text.size()));
    std::string out = escaped ? escaped : "";
    curl_free(escaped);
    return out;
}

Result<HttpResponse> HttpClient::attempt(const HttpRequest& request) {
    CURL* curl = impl_->curl;
    const HttpSettings& s = impl_->settings;
    curl_easy_reset(curl);  // keeps the connection cache: later requests reuse the TLS session
    Exchange x;
    x.curl = curl;
    x.cap = s.max_response_bytes;
    x.sink = request.sink;
    if (x.sink) x.sink->restart();
    auto body = SecretBuffer::allocate(0);
    if (!body) return std::move(body).error();
    x.body = std::move(*body);

    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect must not carry the token elsewhere
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!s.cacert.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, s.cacert.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.connect_timeout_ms));
    std::uint64_t timeout = s.request_timeout_ms;
    if (impl_->deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*impl_->deadline - Clock::now()).count();
        timeout = std::min<std::uint64_t>(timeout, static_cast<std::uint64_t>(std::max<long long>(left, 1)));
    }
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "ghostpod/" GHOSTPOD_VERSION);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl decodes
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);

    curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
    for (const auto& h : s.extra_headers) headers = curl_slist_append(headers, h.c_str());
    // The header line holds the token: built in secret memory; libcurl's own copy is freed
    // (and, in release builds, wiped) with the list.
    SecretBuffer auth;
    auto secret_line = [&](const std::string& prefix, const SecretBuffer& value) -> Status {
        auto line = SecretBuffer::copy_of(text_bytes(prefix));
        if (!line) return std::move(line).error();
        GP_TRY(line->append(value.bytes()));
        GP_TRY(line->push_back('\0'));
        auth = std::move(*line);
        headers = curl_slist_append(headers, reinterpret_cast<const char*>(auth.data()));
        return {};
    };
    if (request.bearer) GP_TRY(secret_line("Authorization: Bearer ", *request.bearer));
    else if (request.secret_header && request.secret_header_name)
        GP_TRY(secret_line(std::string(request.secret_header_name) + ": ", *request.secret_header));
    if (request.post) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        const SecretBuffer* b = request.json_body;
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, b ? reinterpret_cast<const char*>(b->data()) : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(b ? b->size() : 0));
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // errbuf ends with this call
    curl_slist_free_all(headers);

    if (x.too_large)
        return make_error(ErrorCode::network, "read the answer of " + request.url,
                          "it is larger than " + std::to_string(s.max_response_bytes >> 20) + " MiB", s.hints.too_large);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && x.sink_refused)) {
        std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        Error e = make_error(ErrorCode::network, "reach " + request.url, why);
        e.errnum = -static_cast<int>(rc);  // marks the transport error kind for the retry policy
        if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CONNECT_ERROR)
            e.hint = s.hints.untrusted_tls;
        else if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT)
            e.hint = s.hints.unreachable;
        return e;
    }
    HttpResponse response;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    response.body = std::move(x.body);
    // A 2xx answer with no body at all never reached on_body: it is the sink's (empty) too.
    response.streamed = x.sink && (x.into == Exchange::Into::sink ||
                                   (x.into == Exchange::Into::undecided && response.status >= 200 && response.status < 300));
    response.retry_after = x.retry_after;
    return response;
}

Result<HttpResponse> HttpClient::send(const HttpRequest& request) {
    const auto start = Clock::now();
    const HttpSettings& s = impl_->settings;
    auto elapsed_ms = [&] {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
    };
    std::uint64_t waited = 0;
    for (unsigned attempt = 1;; ++attempt) {
        auto result = this->attempt(request);
        bool again = result ? retryable_status(result->status)
                            : result.error().errnum < 0 && retryable_transport(static_cast<CURLcode>(-result.error().errnum));
        std::uint64_t delay = jittered_backoff(attempt - 1);
        if (result && !result->retry_after.empty()) {
            auto asked = retry_after_ms(result->retry_after);
            if (asked) delay = std::max<std::uint64_t>(*asked, 1);
        }
        bool past_budget = impl_->retry_until ? Clock::now() + std::chrono::milliseconds(delay) > *impl_->retry_until
                                              : elapsed_ms() + delay > s.retry_budget_ms;
        if (!again || attempt >= kMaxAttempts || past_budget) {
            if (result) {
                result->attempts = attempt;
                result->waited_ms = waited;
            } else if (attempt > 1) {
                Error e = std::move(result).error();
                e.why += " (gave up after " + std::to_string(attempt) + " attempts in " +
                         std::to_string(elapsed_ms() / 1000) + " s)";
                return e;
            }
            return result;
        }
        if (g_retry_listener && *g_retry_listener)
            (*g_retry_listener)(retry_notice(result ? result->status : 0, result ? std::string() : result.error().why, delay));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        waited += delay;
    }
}

}  // namespace ghostpod
