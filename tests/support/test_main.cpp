#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <sodium.h>

#include <cstdio>

#include "tests/support/skip_report.hpp"

namespace {

// Tells tests/support/skip.cpp when each test case ends, with its assertion counts.
struct SkipListener : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testCaseEnded(const Catch::TestCaseStats& stats) override {
        ghostpod::test::test_case_ended(stats.testInfo.name, stats.totals.assertions.passed,
                                        stats.totals.assertions.failed);
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(SkipListener)

// libsodium must be initialised before any test that allocates secret memory, whichever test
// ctest runs alone.
int main(int argc, char** argv) {
    if (sodium_init() < 0) {
        std::fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    int result = Catch::Session().run(argc, argv);
    return ghostpod::test::finish_with_skips(result);
}
