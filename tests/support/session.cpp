#include "tests/support/session.hpp"

#include <sodium.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ghostpod::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

nlohmann::json status_of(const VaultFixture& v) {
    auto r = v.gp({"status", "--json"});
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

bool alive(long pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    auto close = line.rfind(')');
    return close != std::string::npos && line.size() > close + 2 && line[close + 2] != 'Z';
}

std::vector<long> processes_with(const std::string& marker) {
    std::vector<long> pids;
    for (auto& entry : fs::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline = read_bytes(entry.path() / "cmdline");
        if (cmdline == "sleep" + std::string(1, '\0') + marker + '\0' && alive(std::stol(name))) pids.push_back(std::stol(name));
    }
    return pids;
}

bool gone_within(std::vector<long> pids, const std::string& marker, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        bool any = !processes_with(marker).empty();
        for (long pid : pids) any = any || alive(pid);
        if (!any) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

std::string unique_sleep() {
    return std::to_string(100000 + randombytes_uniform(800000)) + "." + std::to_string(10 + randombytes_uniform(89));
}

nlohmann::json start_lingering_session(const VaultFixture& v, const std::string& marker, const std::string& ttl) {
    return start_lingering_session(v, marker, v.options(), ttl);
}

nlohmann::json start_lingering_session(const VaultFixture& v, const std::string& marker, const RunOptions& options,
                                       const std::string& ttl) {
    std::vector<std::string> args = {"run", "--linger", "10m"};
    if (!ttl.empty()) args.insert(args.end(), {"--ttl", ttl});
    args.insert(args.end(), {"--", "sh", "-c", "sleep " + marker + " </dev/null >/dev/null 2>&1 &"});
    auto r = v.gp_with(args, options);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto s = status_of(v);
    REQUIRE(s["session"].is_object());
    REQUIRE(processes_with(marker).size() == 1);
    return s["session"];
}

ProfileVault::ProfileVault(const std::string& other_name, const std::string& secrets_json) {
    REQUIRE(v.set("aws/credentials", aws).exit_code == 0);
    REQUIRE(v.set("kube/config", kube).exit_code == 0);
    REQUIRE(v.set(other_name, other).exit_code == 0);
    write_text(v.dir / "config.json", R"({"version": 1, "secrets": )" + secrets_json +
                                          R"(, "profiles": {"terraform": ["aws/credentials"]}})");
    options = v.options();
    options.env["GHOSTPOD_CONFIG"] = v.dir / "config.json";
}

}  // namespace ghostpod::test
