// The test runner's side of tests/support/skip.hpp: test_main.cpp's listener reports each
// finished test case, and main() turns the skips into the summary and the exit code.
#pragma once

#include <cstdint>
#include <string>

namespace ghostpod::test {

// The exit code of a run in which every test case was skipped; tests/CMakeLists.txt gives it
// to ctest as SKIP_RETURN_CODE.
inline constexpr int kSkipExitCode = 77;

void test_case_ended(const std::string& name, std::uint64_t passed, std::uint64_t failed);
// Prints the skip summary; returns the exit code for Catch's result.
int finish_with_skips(int catch_result);

}  // namespace ghostpod::test
