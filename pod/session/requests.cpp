// Requests a command sends to a running session's holder besides attaching and locking.
#include "pod/session/requests.hpp"

#include <ctime>

#include "pod/cli/messages.hpp"
#include "pod/formats/text.hpp"
#include "pod/unlock/unlock.hpp"

namespace ghostpod {

Result<SessionPaths> session_paths_for(const Context& context) {
    auto vault_path = existing_vault_path(context);
    if (!vault_path) return std::move(vault_path).error();
    return session_paths(*vault_path);
}

Result<std::optional<std::vector<CertInfo>>> certs_from_session(const Context& context) {
    auto paths = session_paths_for(context);
    if (!paths) return std::move(paths).error();
    auto answer = request<protocol::CertsReply>(*paths, protocol::CertsRequest{});
    if (!answer) {
        // None running is "no session"; a refusal (a profile's view) says so.
        if (no_session_running(answer.error()))
            return std::optional<std::vector<CertInfo>>{};
        return std::move(answer).error();
    }
    auto certs = certs_from_json(answer->json);
    if (!certs) return std::move(certs).error();
    return std::optional<std::vector<CertInfo>>(std::move(*certs));
}

void warn_expiring_certificates(const SessionPaths& paths) {
    auto answer = request<protocol::CertsReply>(paths, protocol::CertsRequest{});
    if (!answer) return;  // a warning, never a failure
    auto certs = certs_from_json(answer->json);
    if (!certs) return;
    std::string text = expiry_warning(std::move(*certs), static_cast<std::int64_t>(std::time(nullptr)));
    if (text.empty()) return;
    // Once per session: the holder remembers the warnings it has let be shown. Keyed without
    // the numbers, which change as time passes ("expires in 5 day(s)" becomes 4 a second later
    // when the certificate was made for exactly 5 days): the same warning, not a new one.
    std::string key = text;
    std::erase_if(key, [](char c) { return c >= '0' && c <= '9'; });
    auto fresh = request<protocol::NoticeReply>(paths, protocol::NoticeRequest{key});
    if (fresh && !fresh->first) return;
    warn(text);
}

}  // namespace ghostpod
