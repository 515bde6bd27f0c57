// Test-only fault injection: named points on the failure paths of a vault save and of session
// setup. Compiled only when CMake's GHOSTPOD_FAULT_INJECTION is ON (the asan build); in release
// GP_FAULT(...) is the constant false and no name, no registry and no variable exist in the binary.
//
// GHOSTPOD_FAULT=<point> fails the point's first hit, <point>:N its Nth (per process). The
// failing call returns -1 with the given errno and goes down the same error path as a real
// failure. The variable is read once by init_from_environment() at the top of main(), before any
// process scrubs its environment; `ghostpod --fault-points` lists the compiled points.
#pragma once

#ifdef GHOSTPOD_FAULT_INJECTION
#include <span>
#include <string_view>

namespace ghostpod::fault {

void init_from_environment();
// True (with errno set to errnum) when `point` is the chosen point and this is the chosen hit.
bool hit(std::string_view point, int errnum);
// Every point compiled into this binary, for `ghostpod --fault-points` and the tests.
std::span<const std::string_view> points();

}  // namespace ghostpod::fault

#define GP_FAULT(point, errnum) (::ghostpod::fault::hit(point, errnum))
#else
#define GP_FAULT(point, errnum) false
#endif
