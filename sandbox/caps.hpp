// Capabilities: a command in the ghost keeps none.
#pragma once

#include "vault/result.hpp"

namespace ghostpod::sandbox {

// Drops every capability: bounding set, ambient set, then effective/permitted/inheritable.
Status drop_capabilities();

}  // namespace ghostpod::sandbox
