// placeholder while being written
#include "pod/cli.hpp"
#include "pod/messages.hpp"

namespace ghostpod {
int cmd_certs(Context&, const std::vector<std::string>&) {
    return report(make_error(ErrorCode::runtime, "cmd_certs", "not built yet"));
}
}  // namespace ghostpod
