// The certificate list as data (times, status, the session's JSON form): no OpenSSL or YAML
// here, so that status, certs and a shell's expiry warning read it without loading the module
// (pod/net_module.cpp) that certs.cpp's parsers live in.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <tuple>

#include "pod/formats/certs.hpp"
#include "pod/formats/text.hpp"

namespace ghostpod {
namespace {

constexpr std::int64_t kSecondsPerDay = 86400;
// What certs_from_json accepts from the session: per string field, and entries in all.
constexpr std::size_t kMaxJsonField = 16u << 10;
constexpr std::size_t kMaxJsonCerts = 100000;
bool parse_utc_time(std::string_view text, std::int64_t& out) {
    constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
    if (text.size() != kShape.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (kShape[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != kShape[i]) return false;
    auto number = [&](std::size_t at, std::size_t digits) {
        int value = 0;
        for (std::size_t i = at; i < at + digits; ++i) value = value * 10 + (text[i] - '0');
        return value;
    };
    std::tm tm{};
    tm.tm_year = number(0, 4) - 1900;
    tm.tm_mon = number(5, 2) - 1;
    tm.tm_mday = number(8, 2);
    tm.tm_hour = number(11, 2);
    tm.tm_min = number(14, 2);
    tm.tm_sec = number(17, 2);
    out = static_cast<std::int64_t>(timegm(&tm));
    // timegm normalises 02-31 into March; the round trip rejects such dates.
    return utc_time(out) == text;
}

bool string_field(const nlohmann::json& item, const char* key, std::string& out) {
    auto it = item.find(key);
    if (it == item.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return out.size() <= kMaxJsonField;
}

}  // namespace

std::int64_t days_left(const CertInfo& cert, std::int64_t now) {
    std::int64_t seconds = cert.not_after - now;
    std::int64_t days = seconds / kSecondsPerDay;
    if (seconds % kSecondsPerDay < 0) --days;  // round toward the past, not toward zero
    return days;
}

void sort_worst_first(std::vector<CertInfo>& certs) {
    std::stable_sort(certs.begin(), certs.end(), [](const CertInfo& a, const CertInfo& b) {
        return std::tie(a.not_after, a.source, a.subject) < std::tie(b.not_after, b.source, b.subject);
    });
}

std::string expiry_warning(std::vector<CertInfo> certs, std::int64_t now) {
    std::erase_if(certs, [](const CertInfo& c) { return c.per_session; });  // they die with the session
    std::size_t soon = 0;
    for (const auto& c : certs)
        if (days_left(c, now) < kDefaultCertWarnDays) ++soon;
    if (soon == 0) return "";
    sort_worst_first(certs);
    const CertInfo& worst = certs.front();
    std::int64_t days = days_left(worst, now);
    std::string when = days < 0 ? "expired " + std::to_string(-days) + " day(s) ago" : "expires in " + std::to_string(days) + " day(s)";
    return std::to_string(soon) + " certificate(s) expire within " + std::to_string(kDefaultCertWarnDays) + " days; " +
           printable(worst.source) + " (" + printable(worst.subject) + ") " + when + "; see 'ghostpod certs'";
}

CertStatus cert_status(const CertInfo& cert, std::int64_t now, std::int64_t warn_days) {
    std::int64_t days = days_left(cert, now);
    if (cert.per_session) return cert.not_after > now ? CertStatus::session : CertStatus::expired;
    if (days < 0) return CertStatus::expired;
    return days < warn_days ? CertStatus::expiring : CertStatus::ok;
}

const char* cert_status_name(CertStatus status) {
    switch (status) {
        case CertStatus::expired: return "expired";
        case CertStatus::expiring: return "expiring";
        case CertStatus::session: return "session";
        case CertStatus::ok: break;
    }
    return "ok";
}

std::string utc_time(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) return "?";
    char out[48];
    std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    return out;
}

std::string certs_to_json(const std::vector<CertInfo>& certs, std::int64_t now, std::int64_t warn_days) {
    auto list = nlohmann::ordered_json::array();  // fields in the order a reader expects
    for (const CertInfo& c : certs)
        list.push_back({{"source", c.source},
                        {"subject", c.subject},
                        {"issuer", c.issuer},
                        {"not_before", utc_time(c.not_before)},
                        {"not_after", utc_time(c.not_after)},
                        {"days_left", days_left(c, now)},
                        {"status", cert_status_name(cert_status(c, now, warn_days))},
                        {"per_session", c.per_session}});
    // A ghost file name need not be UTF-8; replacing beats throwing.
    return list.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<std::vector<CertInfo>> certs_from_json(std::string_view text) {
    auto malformed = [](const std::string& why) {
        return make_error(ErrorCode::runtime, "read the certificate list from the session", why);
    };
    // Values nested below an entry's fields are dropped while parsing, so hostile nesting
    // builds no deep tree (and then fails the field checks below).
    auto keep_shallow = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) { return depth <= 2; };
    auto list = nlohmann::json::parse(text.begin(), text.end(), keep_shallow, false);
    if (list.is_discarded() || !list.is_array()) return malformed("it is not a JSON array");
    if (list.size() > kMaxJsonCerts) return malformed("it lists more than " + std::to_string(kMaxJsonCerts) + " certificates");
    std::vector<CertInfo> certs;
    certs.reserve(list.size());
    for (const auto& item : list) {
        CertInfo c;
        std::string not_before, not_after;
        if (!item.is_object() || !string_field(item, "source", c.source) || !string_field(item, "subject", c.subject) ||
            !string_field(item, "issuer", c.issuer) || !string_field(item, "not_before", not_before) ||
            !string_field(item, "not_after", not_after))
            return malformed("an entry lacks a text field or has one over " + std::to_string(kMaxJsonField) + " bytes");
        if (!parse_utc_time(not_before, c.not_before) || !parse_utc_time(not_after, c.not_after))
            return malformed("an entry has a time not in the form 2026-11-23T15:20:00Z");
        if (auto p = item.find("per_session"); p != item.end() && p->is_boolean()) c.per_session = p->get<bool>();
        certs.push_back(std::move(c));
    }
    return certs;
}


}  // namespace ghostpod
