// Skips that show. Catch2 v2 has no skip of its own, so a skipped check would pass silently:
// GP_SKIP ends the test case here (a test case with no passed assertion then counts as
// skipped: ctest reports it as "Skipped" through SKIP_RETURN_CODE 77), GP_SKIP_PART notes a
// part left out and goes on (the case counts as partly skipped). Both print "skipped: <reason>"
// at once and in the summary the test binary prints at the end; with GHOSTPOD_TEST_SKIP_LOG
// set they are also appended to that file, which scripts/test.sh reads to report every skip
// and to fail when a check is skipped in every pass.
#pragma once

#include <catch2/catch.hpp>

#include <string>

namespace ghostpod::test {

// Records a skip of the running test case; `whole` for GP_SKIP, false for GP_SKIP_PART.
void record_skip(const std::string& reason, bool whole);

}  // namespace ghostpod::test

#define GP_SKIP(reason_stream)                                                       \
    do {                                                                             \
        std::string gp_skip_reason = (Catch::ReusableStringStream() << reason_stream).str(); \
        ::ghostpod::test::record_skip(gp_skip_reason, true);                         \
        WARN("skipped: " << gp_skip_reason);                                         \
        return;                                                                      \
    } while (false)

#define GP_SKIP_PART(reason_stream)                                                  \
    do {                                                                             \
        std::string gp_skip_reason = (Catch::ReusableStringStream() << reason_stream).str(); \
        ::ghostpod::test::record_skip(gp_skip_reason, false);                        \
        WARN("skipped: " << gp_skip_reason);                                         \
    } while (false)
