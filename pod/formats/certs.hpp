// Finding X.509 certificates in secret values (PEM files, talosconfig, kubeconfig) and
// reporting when they expire. Only public certificate fields are ever reported; keys are
// skipped without being decoded.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vault/result.hpp"

namespace ghostpod {

inline constexpr std::int64_t kDefaultCertWarnDays = 30;

struct CertInfo {
    std::string source;   // where: "vault:talos/config contexts.prod.crt", "ghost:~/.kube/config users[admin]…"
    std::string subject;  // RFC 2253 one-line form
    std::string issuer;
    std::int64_t not_before = 0;  // seconds since the epoch, UTC
    std::int64_t not_after = 0;
    bool per_session = false;  // issued for the running session (vault.pki): it expires with it
};

// Every certificate in `bytes`, labelled with `label` plus the place inside (YAML field or
// PEM block number). Values that are neither YAML with certificate fields nor PEM give none.
// Malformed certificates are reported in `problems` (no bytes of the value are quoted).
std::vector<CertInfo> find_certificates(const std::string& label, std::span<const std::uint8_t> bytes,
                                        std::vector<std::string>* problems = nullptr);

// Whole days from `now` to notAfter, rounded down; negative once expired.
std::int64_t days_left(const CertInfo& cert, std::int64_t now);
// Worst first: earliest notAfter, then source.
void sort_worst_first(std::vector<CertInfo>& certs);

// The one-line warning about certificates (per-session ones left out) that expire within
// kDefaultCertWarnDays of `now`, naming the worst; empty when none does.
std::string expiry_warning(std::vector<CertInfo> certs, std::int64_t now);

// expired: notAfter has passed; expiring: it falls within the next `warn_days` days; session:
// a per-session certificate that has not expired (short-lived by design, so never "expiring").
enum class CertStatus { ok, expiring, expired, session };
CertStatus cert_status(const CertInfo& cert, std::int64_t now, std::int64_t warn_days);
const char* cert_status_name(CertStatus status);  // "ok", "expiring", "expired", "session"
// "2026-11-23T15:20:00Z"; works for times before 1970 too.
std::string utc_time(std::int64_t unix_seconds);

// The wire form between the session holder and a client, and `certs --json`.
std::string certs_to_json(const std::vector<CertInfo>& certs, std::int64_t now, std::int64_t warn_days);
Result<std::vector<CertInfo>> certs_from_json(std::string_view text);

}  // namespace ghostpod
