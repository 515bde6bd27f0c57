#include "vault/result.hpp"

#include <cstring>

namespace ghostpod {

std::string Error::describe() const {
    std::string text = what;
    std::string reason = why;
    if (reason.empty() && errnum != 0) {
        reason = std::strerror(errnum);
        if (const char* name = strerrorname_np(errnum)) reason += std::string(" (") + name + ")";
    }
    if (!reason.empty()) text += (text.empty() ? "" : ": ") + reason;
    return text;
}

Error sys_error(std::string what, int errnum) {
    return Error{ErrorCode::runtime, std::move(what), {}, errnum, {}};
}

Error make_error(ErrorCode code, std::string what, std::string why, std::string hint) {
    return Error{code, std::move(what), std::move(why), 0, std::move(hint)};
}

}  // namespace ghostpod
