// Paths below a directory descriptor that cannot lead out of it: no symbolic link, no "..",
// no other mount on the way (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV,
// or the same walk one component at a time where the kernel predates openat2). For the RAM
// mount, whose contents any process in the ghost may rearrange while ghostpod works in it.
#pragma once

#include <sys/types.h>

#include <string>

#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod::sandbox {

// openat(root, path, flags, mode) resolved beneath `root`. A link, a mount or an escape on
// the way fails with ELOOP or EXDEV.
Result<UniqueFd> open_beneath(int root, const std::string& path, int flags, mode_t mode = 0);

// The directory holding `path`'s last component (`root` itself, duplicated, for a name with no
// slash), opened beneath `root`; `leaf` receives that last component.
Result<UniqueFd> open_parent_beneath(int root, const std::string& path, std::string& leaf);

// Creates every directory leading to `path`'s last component (mode 0700), beneath `root`.
Status make_parents_beneath(int root, const std::string& path);

// Whether `error` is what open_beneath reports for a link or mount in the way.
bool blocked_by_link(const Error& error);

}  // namespace ghostpod::sandbox
