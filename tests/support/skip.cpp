#include "tests/support/skip.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "tests/support/skip_report.hpp"

namespace ghostpod::test {
namespace {

struct Skip {
    std::string test;
    std::string reason;
    bool whole;
};

std::mutex skips_mutex;
std::vector<Skip> pending;   // skips of the running test case
std::vector<std::string> summary;
int cases_ran = 0, cases_skipped = 0;

// One line per record, appended with O_APPEND so that test binaries ctest runs in parallel
// do not interleave within a line. Tabs and newlines in names or reasons become spaces.
void append_to_log(std::string line) {
    const char* path = std::getenv("GHOSTPOD_TEST_SKIP_LOG");
    if (path == nullptr || *path == '\0') return;
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    line += '\n';
    int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
}

std::string flat(std::string s) {
    for (char& c : s)
        if (c == '\t') c = ' ';
    return s;
}

}  // namespace

void record_skip(const std::string& reason, bool whole) {
    std::lock_guard lock(skips_mutex);
    pending.push_back({Catch::getResultCapture().getCurrentTestName(), reason, whole});
}

void test_case_ended(const std::string& name, std::uint64_t passed, std::uint64_t failed) {
    std::lock_guard lock(skips_mutex);
    ++cases_ran;
    // A case that skipped and asserted nothing did not run; one that asserted some things ran in part.
    bool skipped = !pending.empty() && passed == 0 && failed == 0;
    if (skipped) ++cases_skipped;
    append_to_log("ran\t" + flat(name) + "\t" + (failed ? "failed" : skipped ? "skipped" : "passed"));
    for (const auto& s : pending) {
        std::string kind = skipped ? "skipped" : "partly skipped";
        summary.push_back(kind + ": " + name + ": " + s.reason);
        append_to_log("skip\t" + flat(name) + "\t" + flat(s.reason));
    }
    pending.clear();
}

int finish_with_skips(int catch_result) {
    std::lock_guard lock(skips_mutex);
    if (!summary.empty()) {
        std::printf("skips (%d of %d test cases skipped as a whole):\n", cases_skipped, cases_ran);
        for (const auto& line : summary) std::printf("  %s\n", line.c_str());
        std::fflush(stdout);
    }
    if (catch_result != 0) return catch_result;
    // Every case that ran was skipped (ctest runs one case at a time): SKIP_RETURN_CODE.
    if (cases_ran > 0 && cases_skipped == cases_ran) return kSkipExitCode;
    return 0;
}

}  // namespace ghostpod::test
