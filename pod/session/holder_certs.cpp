// The holder's side of 'certs': the certificates in the ghost's files, looked at one file at a time.
#include <ctime>

#include "pod/formats/certs.hpp"
#include "pod/session/holder_state.hpp"

namespace ghostpod {
namespace {

// A cheap look before the parsers: a session may hold 10,000 pulled values, few of them PEM
// or YAML with certificate fields.
bool may_hold_certificate(std::span<const std::uint8_t> value) {
    std::string_view text(reinterpret_cast<const char*>(value.data()), value.size());
    for (std::string_view marker : {"CERTIFICATE", "crt:", "ca:", "certificate-"})
        if (text.find(marker) != std::string_view::npos) return true;
    return false;
}

// The session's own certificates (vault.pki) are short-lived on purpose: marked, not warned about.
void mark_per_session(const Holder& h, std::vector<CertInfo>& certs) {
    for (CertInfo& c : certs)
        for (const IssuedCertificate& issued : h.vault.certificates)
            if (c.subject == issued.subject && c.issuer == issued.issuer && c.not_before == issued.not_before &&
                c.not_after == issued.not_after)
                c.per_session = true;
}

}  // namespace

void check_certificates(const Holder& h, const std::vector<const GhostFile*>& files, std::vector<std::string>& warnings) {
    std::vector<CertInfo> certs;
    for (const GhostFile* f : files) {
        if (!may_hold_certificate(f->value)) continue;
        auto found = find_certificates("ghost:" + f->name, f->value);
        certs.insert(certs.end(), found.begin(), found.end());
    }
    if (certs.empty()) return;
    mark_per_session(h, certs);
    std::string warning = expiry_warning(std::move(certs), static_cast<std::int64_t>(std::time(nullptr)));
    if (!warning.empty()) warnings.push_back(warning);
}

void serve_certs(Holder& h, int conn) {
    std::vector<std::string> unreadable;
    std::vector<CertInfo> certs;
    std::size_t count = 0;
    // Looked at and let go one by one: a session of 10,000 pulled values would otherwise hold
    // a second copy of all of them (a locked region each) for the length of the scan.
    auto look = [&](GhostFileRead&& f) -> Status {
        if (!may_hold_certificate(f.value.bytes())) return {};
        auto found = find_certificates("ghost:" + f.name, f.value.bytes());
        certs.insert(certs.end(), found.begin(), found.end());
        return {};
    };
    if (auto read = read_ghost_tree(h.ghost.root_dir.get(), "", 0, look, count, unreadable); !read) {
        answer(conn, read.error());
        return;
    }
    mark_per_session(h, certs);
    sort_worst_first(certs);
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    answer(conn, protocol::CertsReply{certs_to_json(certs, now, kDefaultCertWarnDays)});
}

}  // namespace ghostpod
