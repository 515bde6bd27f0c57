// placeholder while being written
#include "pod/messages.hpp"
#include "pod/session_requests.hpp"

namespace ghostpod {
int cmd_save(Context&, const std::vector<std::string>&) {
    return report(make_error(ErrorCode::runtime, "cmd_save", "not built yet"));
}
Result<std::optional<std::vector<CertInfo>>> certs_from_session(const Context&) { return std::optional<std::vector<CertInfo>>{}; }
}  // namespace ghostpod
