// placeholder while being written
#include "pod/cli.hpp"
#include "pod/messages.hpp"

namespace ghostpod {
int cmd_save(Context&, const std::vector<std::string>&) {
    return report(make_error(ErrorCode::runtime, "cmd_save", "not built yet"));
}
}  // namespace ghostpod
