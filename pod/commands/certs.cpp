// ghostpod certs: every certificate in the running ghost or the vault, worst first, with an
// exit code a CI job can act on (6 when any has expired or expires within the window).
#include <algorithm>
#include <charconv>
#include <string_view>

#include "pod/commands/commands.hpp"
#include "pod/formats/certs.hpp"
#include "pod/cli/args.hpp"
#include "pod/formats/text.hpp"
#include "pod/cli/messages.hpp"
#include "pod/infisical/pull_cache.hpp"
#include "pod/hcvault/entries.hpp"
#include "pod/hcvault/pull_cache.hpp"
#include "pod/session/requests.hpp"
#include "pod/unlock/unlock.hpp"

namespace ghostpod {
namespace {

constexpr std::int64_t kMaxWarnDays = 36500;

struct CertScan {
    std::vector<CertInfo> certs;
    std::vector<std::string> problems;
    std::string where;  // for "no certificates found in …"
};

Result<std::int64_t> parse_warn_days(const std::string& text) {
    std::int64_t days = -1;
    auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), days);
    if (failure != std::errc() || end != text.data() + text.size() || days < 0 || days > kMaxWarnDays)
        return usage_error("certs", "--warn-days must be a whole number of days from 0 to " + std::to_string(kMaxWarnDays));
    return days;
}

void add_found(CertScan& scan, const std::string& label, std::span<const std::uint8_t> value) {
    auto found = find_certificates(label, value, &scan.problems);
    scan.certs.insert(scan.certs.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
}

// The offline cache is one binary entry; the certificates are in the values it holds.
void scan_pull_cache(const Entry& entry, CertScan& scan) {
    auto cache = decode_pull_cache(entry.value());
    if (!cache) {
        scan.problems.push_back("vault:" + entry.name + ": " + cache.error().describe());
        return;
    }
    for (const PulledSecret& secret : cache->pulled.secrets) add_found(scan, "cache:" + secret.key, cache->pulled.value(secret));
}

void scan_vault_cache(const Entry& entry, CertScan& scan) {
    auto cache = decode_vault_cache(entry.value());
    if (!cache) {
        scan.problems.push_back("vault:" + entry.name + ": " + cache.error().describe());
        return;
    }
    for (const KvSecret& secret : cache->pulled.secrets) add_found(scan, "cache:" + secret.ghost_name(), cache->pulled.value(secret));
}

Result<CertScan> scan_vault(const Context& context) {
    CertScan scan;
    auto vault = read_only_vault(context, scan.where);
    if (!vault) return std::move(vault).error();
    for (const Entry& entry : vault->entries()) {
        if (entry.kind == EntryKind::identity) continue;
        if (entry.kind == EntryKind::token_cache && entry.name == kPullCacheEntry) scan_pull_cache(entry, scan);
        else if (entry.kind == EntryKind::token_cache && entry.name == kVaultCacheEntry) scan_vault_cache(entry, scan);
        else add_found(scan, "vault:" + entry.name, entry.value());
    }
    return scan;
}

std::string table(const std::vector<CertInfo>& certs, std::int64_t now, std::int64_t warn_days) {
    std::size_t source_width = 6, subject_width = 7;
    for (const CertInfo& c : certs) {
        source_width = std::max(source_width, c.source.size());
        subject_width = std::max(subject_width, c.subject.size());
    }
    auto pad = [](std::string s, std::size_t n) { return s.size() < n ? s + std::string(n - s.size(), ' ') : s; };
    std::string out = pad("STATUS", 8) + "  " + pad("DAYS", 6) + "  " + pad("NOT AFTER", 20) + "  " +
                      pad("SOURCE", source_width) + "  " + pad("SUBJECT", subject_width) + "  ISSUER\n";
    for (const CertInfo& c : certs)
        out += pad(cert_status_name(cert_status(c, now, warn_days)), 8) + "  " + pad(std::to_string(days_left(c, now)), 6) +
               "  " + pad(utc_time(c.not_after), 20) + "  " + pad(printable(c.source), source_width) + "  " +
               pad(printable(c.subject), subject_width) + "  " + printable(c.issuer) + "\n";
    return out;
}

}  // namespace

int cmd_certs(Context& context, const ParsedArgs& args) {
    if (!args.positional.empty()) return report(usage_error("certs", "takes no arguments"));
    std::int64_t warn_days = kDefaultCertWarnDays;
    if (auto text = args.value("--warn-days")) {
        auto days = parse_warn_days(*text);
        if (!days) return report(days.error());
        warn_days = *days;
    }

    // A running session's ghost holds the vault's files and the pulled ones; ask it first.
    CertScan scan;
    auto in_session = certs_from_session(context);
    if (!in_session) warn(in_session.error().describe() + "; reading the vault instead");
    if (in_session && in_session->has_value()) {
        scan.certs = std::move(**in_session);
        scan.where = "the running session's ghost";
    } else {
        auto from_vault = scan_vault(context);
        if (!from_vault) return report(from_vault.error());
        scan = std::move(*from_vault);
    }
    for (const std::string& problem : scan.problems) warn(printable(problem));

    auto now = static_cast<std::int64_t>(now_seconds());
    sort_worst_first(scan.certs);
    bool json = args.has("--json");
    if (json) print_stdout(certs_to_json(scan.certs, now, warn_days));
    if (scan.certs.empty()) {
        note("no certificates found in " + scan.where);
        return 0;
    }
    if (!json) print_stdout(table(scan.certs, now, warn_days));
    auto per_session = std::count_if(scan.certs.begin(), scan.certs.end(),
                                     [&](const CertInfo& c) { return cert_status(c, now, warn_days) == CertStatus::session; });
    if (per_session > 0 && !json)
        note(std::to_string(per_session) + " certificate(s) were issued for this session (vault.pki) and expire with it");
    auto failing = std::count_if(scan.certs.begin(), scan.certs.end(), [&](const CertInfo& c) {
        CertStatus status = cert_status(c, now, warn_days);
        return status != CertStatus::ok && status != CertStatus::session;
    });
    if (failing == 0) return 0;
    note(std::to_string(failing) + " of " + std::to_string(scan.certs.size()) +
         " certificates have expired or expire within " + std::to_string(warn_days) + " days");
    return exit_code(ErrorCode::expiring);
}

}  // namespace ghostpod
