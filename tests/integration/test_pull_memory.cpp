// What the session's holder still has in memory after a pull: it keeps the data key and the
// access token, and nothing of what passed through it (values, the client secret), although
// libcurl, OpenSSL and the JSON parser made heap copies of them. Reads the holder's memory
// through /proc/PID/mem, which only root may do for a non-dumpable process.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/support/infisical_server.hpp"
#include "tests/support/proc_probe.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;
using json = nlohmann::json;

TEST_CASE("after a pull and a refresh the holder's memory holds no pulled value and no client secret", "[pull][memory]") {
#if defined(__SANITIZE_ADDRESS__) || defined(GHOSTPOD_TESTS_SANITIZED)
    GP_SKIP("sanitizer builds keep their own allocator, which does not zero freed memory; the release build is checked");
#endif
    if (::geteuid() != 0) {
        GP_SKIP("reading a non-dumpable process's memory needs root (scripts/test.sh runs this as root)");
    }
    std::string value = random_marker("VALUE-IN-MEMORY");
    std::string kube_marker = random_marker("KUBE-IN-MEMORY");
    std::string kube = "apiVersion: v1\nkind: Config\n# " + kube_marker + "\n";
    std::string client_secret = random_marker("CLIENT-SECRET");
    json world = {{"identities", json::array({{{"clientId", "id"}, {"clientSecret", client_secret}}})},
                  {"projects",
                   {{"p", {{"slug", "p"}, {"environments", {{"dev", {{"folders", {{"/", {{"secrets", {{"PLAIN", value}, {"KUBECONFIG", kube}}}}}}}}}}}}}}}};
    FakeInfisical server(world.dump());
    VaultFixture v;
    std::string config = v.dir / "config.json";
    write_text(config, json{{"version", 1},
                            {"infisical", {{"host", server.url()}, {"project_id", "p"}, {"environment", "dev"}, {"cacert", server.ca_path()}}}}
                           .dump());
    REQUIRE(v.gp({"--config", config, "identity", "set"}, "id\n" + client_secret + "\n").exit_code == 0);
    auto pulled = v.gp({"--config", config, "pull", "--no-shell"});
    INFO(pulled.err);
    REQUIRE(pulled.exit_code == 0);
    // A refresh with changed values goes through the replace path too.
    std::string value2 = random_marker("VALUE2-IN-MEMORY");
    world["projects"]["p"]["environments"]["dev"]["folders"]["/"]["secrets"]["PLAIN"] = value2;
    server.set_world(world.dump());
    auto refreshed = v.gp({"--config", config, "pull", "--no-shell"});
    INFO(refreshed.err);
    REQUIRE(refreshed.exit_code == 0);
    auto status = json::parse(v.gp({"--config", config, "status", "--json"}).out);
    long holder = status["session"]["holder_pid"].get<long>();
    std::string ghost_dir = status["session"]["ghost_dir"].get<std::string>();

    auto counts = occurrences_in_memory(holder, {value, value2, kube_marker, client_secret, ghost_dir});
    (void)v.gp({"--config", config, "lock"});
    CHECK(counts[4] > 0);  // the scan reads the holder's memory: its own ghost_dir string is there
    CHECK(counts[0] == 0);
    CHECK(counts[1] == 0);
    CHECK(counts[2] == 0);
    CHECK(counts[3] == 0);
}
