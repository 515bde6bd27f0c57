#include "tests/support/infisical_setup.hpp"

#include <catch2/catch.hpp>

namespace ghostpod::test {

using json = nlohmann::json;

std::string one_folder_world(const json& secrets) {
    json dev = {{"folders", {{"/", {{"secrets", secrets}}}}}};
    return json{{"identities", json::array({{{"clientId", "id"}, {"clientSecret", "secret"}}})},
                {"projects", {{"proj-1", {{"slug", "demo"}, {"environments", {{"dev", dev}}}}}}}}
        .dump();
}

RunOptions pull_options(const VaultFixture& v, const std::string& config_path) {
    RunOptions o = v.options();
    o.env["GHOSTPOD_CONFIG"] = config_path;
    for (const char* name : {"INFISICAL_DOMAIN", "INFISICAL_API_URL", "INFISICAL_PROJECT_ID", "INFISICAL_TOKEN",
                             "INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN", "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
                             "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", "INFISICAL_CUSTOM_HEADERS",
                             "INFISICAL_AUTH_ORGANIZATION_SLUG"})
        o.env[name] = "";
    return o;
}

void prepare_pull(const VaultFixture& v, const FakeInfisical& server, const std::string& config_path, const json& extra) {
    json infisical = {{"host", server.url()}, {"project_id", "proj-1"}, {"environment", "dev"}, {"cacert", server.ca_path()}};
    json config = {{"version", 1}};
    for (auto& [key, value] : extra.items()) {
        if (key == "infisical") infisical.merge_patch(value);
        else config[key] = value;
    }
    config["infisical"] = infisical;
    write_text(config_path, config.dump(2));
    auto o = pull_options(v, config_path);
    o.stdin_data = "id\nsecret\n";
    auto r = v.gp_with({"identity", "set"}, o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

}  // namespace ghostpod::test
