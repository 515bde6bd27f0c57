// placeholder while being written
#include "pod/cli.hpp"
#include "pod/messages.hpp"

namespace ghostpod {
int cmd_import(Context&, const std::vector<std::string>&) {
    return report(make_error(ErrorCode::runtime, "cmd_import", "not built yet"));
}
}  // namespace ghostpod
