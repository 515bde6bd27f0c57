// The Infisical client's pure parts: base-URL normalisation, the precedence of a listing,
// server error rendering, custom headers, the offline cache format and the config section.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "pod/unlock/config.hpp"
#include "pod/infisical/client.hpp"
#include "pod/infisical/pull_cache.hpp"
#include "pod/infisical/pull_settings.hpp"
#include "tests/support/temp_dir.hpp"
#include "vault/unique_fd.hpp"

using namespace ghostpod;

namespace {

SecretBuffer body(const std::string& text) {
    auto b = SecretBuffer::copy_of(text_bytes(text));
    REQUIRE(b);
    return std::move(*b);
}

std::string value_of(const PulledSecrets& p, const std::string& key) {
    const PulledSecret* s = p.find(key);
    REQUIRE(s != nullptr);
    auto v = p.value(*s);
    return std::string(v.begin(), v.end());
}

std::string nlohmann_escape(const std::string& value) { return nlohmann::json(value).dump(); }

std::string secret(const std::string& key, const std::string& value, const std::string& path = "/") {
    return R"({"secretKey":")" + key + R"(","secretValue":)" + nlohmann_escape(value) + R"(,"secretPath":")" + path + R"("})";
}

}  // namespace

TEST_CASE("a host in any of the usual spellings becomes one base URL ending in /api", "[infisical]") {
    CHECK(normalise_base_url("https://eu.infisical.com") == "https://eu.infisical.com/api");
    CHECK(normalise_base_url("https://eu.infisical.com/") == "https://eu.infisical.com/api");
    CHECK(normalise_base_url("https://eu.infisical.com/api") == "https://eu.infisical.com/api");
    CHECK(normalise_base_url("https://eu.infisical.com/api/") == "https://eu.infisical.com/api");
    CHECK(normalise_base_url("app.infisical.com") == "https://app.infisical.com/api");
    CHECK(normalise_base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/api");
    CHECK(normalise_base_url("https://host/infisical/api//") == "https://host/infisical/api");
}

TEST_CASE("a folder's own secrets beat its imports and a later import beats an earlier one", "[infisical]") {
    auto listing = body(R"({"secrets":[)" + secret("A", "own-a") + R"(],
        "imports":[{"secretPath":"/one","environment":"prod","secrets":[)" + secret("A", "first-a") + "," +
                        secret("B", "first-b") + "," + secret("C", "first-c") + R"(]},
                   {"secretPath":"/two","environment":"prod","secrets":[)" + secret("B", "second-b") + R"(]}]})");
    auto merged = merge_listings({&listing}, "test");
    REQUIRE(merged);
    CHECK(merged->secrets.size() == 3);
    CHECK(value_of(*merged, "A") == "own-a");
    CHECK(value_of(*merged, "B") == "second-b");
    CHECK(value_of(*merged, "C") == "first-c");
}

TEST_CASE("a later path beats an earlier one and a later duplicate within a listing wins", "[infisical]") {
    auto first = body(R"({"secrets":[)" + secret("K", "from-root") + "," + secret("ONLY", "root-only") + "]}");
    auto second = body(R"({"secrets":[)" + secret("K", "from-sub-1", "/sub") + "," + secret("K", "from-sub-2", "/sub/x") + "]}");
    auto merged = merge_listings({&first, &second}, "test");
    REQUIRE(merged);
    CHECK(value_of(*merged, "K") == "from-sub-2");
    CHECK(merged->folder(*merged->find("K")) == "/sub/x");
    CHECK(value_of(*merged, "ONLY") == "root-only");
}

TEST_CASE("multi-line values and escapes survive the listing byte for byte", "[infisical]") {
    std::string pem = "-----BEGIN X-----\nMIIB\t\"quoted\"\\back\r\n\u00e9\n-----END X-----\n";
    auto listing = body(R"({"secrets":[)" + secret("PEM", pem) + "]}");
    auto merged = merge_listings({&listing}, "test");
    REQUIRE(merged);
    CHECK(value_of(*merged, "PEM") == pem);
}

TEST_CASE("a listing that is not Infisical's shape is refused with a network error", "[infisical]") {
    for (std::string text : {"{\"secrets\": [ {garbage", "[]", "{\"nothing\":1}", "{\"secrets\":[{\"secretKey\":\"A\"}]}",
                             "{\"secrets\":{}}"}) {
        auto listing = body(text);
        auto merged = merge_listings({&listing}, "test");
        REQUIRE_FALSE(merged);
        CHECK(merged.error().code == ErrorCode::network);
    }
}

TEST_CASE("a hidden value is an error that says the identity cannot read values", "[infisical]") {
    auto listing = body(R"({"secrets":[{"secretKey":"A","secretValue":"<hidden-by-infisical>","secretValueHidden":true}]})");
    auto merged = merge_listings({&listing}, "test");
    REQUIRE_FALSE(merged);
    CHECK(merged.error().describe().find("hid the value of A") != std::string::npos);
}

TEST_CASE("keys that cannot be file names are skipped and reported", "[infisical]") {
    auto listing = body(R"({"secrets":[)" + secret("GOOD", "1") + "," + secret("a/b", "2") + "," + secret("..", "3") + "]}");
    auto merged = merge_listings({&listing}, "test");
    REQUIRE(merged);
    CHECK(merged->secrets.size() == 1);
    CHECK(merged->skipped.size() == 2);
}

TEST_CASE("server errors show status, error, message and reqId, a 422 lists its problems", "[infisical]") {
    std::string message;
    auto text = describe_server_error(401, R"({"reqId":"req-42","statusCode":401,"message":"Invalid credentials","error":"UnauthorizedError"})", 1, message);
    CHECK(text == "401 UnauthorizedError: Invalid credentials (reqId req-42)");
    CHECK(message == "Invalid credentials");
    text = describe_server_error(422, R"({"reqId":"req-7","statusCode":422,"error":"ValidationFailure","message":[
        {"code":"invalid_enum_value","path":["recursive"],"message":"Invalid enum value"},
        {"code":"invalid_type","path":["environment"],"message":"Required"}]})", 1, message);
    CHECK(text.find("422 ValidationFailure") == 0);
    CHECK(text.find("[\"recursive\"] Invalid enum value; [\"environment\"] Required") != std::string::npos);
    CHECK(text.find("reqId req-7") != std::string::npos);
    text = describe_server_error(503, "upstream unavailable", 4, message);
    CHECK(text == "503: upstream unavailable after 4 attempts");
}

TEST_CASE("INFISICAL_CUSTOM_HEADERS becomes header lines, refusing line breaks", "[infisical]") {
    CHECK(parse_custom_headers("X-A=1 X-B=two=2") == std::vector<std::string>{"X-A: 1", "X-B: two=2"});
    CHECK(parse_custom_headers("novalue =x X-C=ok") == std::vector<std::string>{"X-C: ok"});
    CHECK(parse_custom_headers("X-D=a\r\nEvil: 1").empty());
    CHECK(parse_custom_headers("Authorization=Bearer-x authorization=y Host=h X-E=1") == std::vector<std::string>{"X-E: 1"});
}

TEST_CASE("the offline cache round-trips and a damaged one is refused", "[infisical]") {
    auto listing = body(R"({"secrets":[)" + secret("A", "alpha\n") + "," + secret("B", "") + "]}");
    auto merged = merge_listings({&listing}, "test");
    REQUIRE(merged);
    PullSettings s;
    s.target.base_url = "https://h/api";
    s.target.project_id = "p";
    s.target.environment = "dev";
    s.target.paths = {"/", "/x"};
    auto encoded = encode_pull_cache(s, *merged, 1234);
    REQUIRE(encoded);
    auto decoded = decode_pull_cache(encoded->bytes());
    REQUIRE(decoded);
    CHECK(decoded->fetched_at == 1234);
    CHECK(cache_matches(*decoded, s));
    CHECK(value_of(decoded->pulled, "A") == "alpha\n");
    CHECK(value_of(decoded->pulled, "B").empty());
    s.target.environment = "prod";
    CHECK_FALSE(cache_matches(*decoded, s));
    for (std::size_t cut = 0; cut < encoded->size(); cut += 7)
        CHECK_FALSE(decode_pull_cache(encoded->bytes().first(cut)));
}

TEST_CASE("the config's infisical section is read, and a bad key is named", "[infisical][config]") {
    test::TempDir dir;
    test::write_text(dir / "c.json", R"({"version":1,"infisical":{"host":"h","project_id":"p","paths":["/","/talos"],
        "recursive":true,"retry_for":"5s","secrets":{"AGE":{"path":"~/.config/sops/age/keys.txt","env":"SOPS_AGE_KEY_FILE"},
        "KUBECONFIG":{}},"tfvars":{"path":"~/infra/g.auto.tfvars","variables":{"client_secret":"TF_SECRET"}}}})");
    auto config = load_config(dir / "c.json");
    REQUIRE(config);
    CHECK(config->infisical.present);
    CHECK(config->infisical.paths == std::vector<std::string>{"/", "/talos"});
    CHECK(config->infisical.recursive == true);
    CHECK(config->infisical.retry_seconds == 5);
    CHECK(config->infisical.secrets.at("AGE").env == "SOPS_AGE_KEY_FILE");
    CHECK(config->infisical.tfvars.at("client_secret") == "TF_SECRET");
    PullSettings s;
    s.mappings = config->infisical.secrets;
    CHECK_FALSE(pulled_mapping_for(s, "KUBECONFIG"));  // {} turns the built-in off
    REQUIRE(pulled_mapping_for(s, "TALOSCONFIG"));
    CHECK(pulled_mapping_for(s, "TALOSCONFIG")->path == "~/.talos/config");

    for (std::string bad : {R"({"infisical":{"paths":["talos"]}})", R"({"infisical":{"recursive":"yes"}})",
                            R"({"infisical":{"hots":"x"}})", R"({"infisical":{"secrets":{"A/B":{}}}})",
                            R"({"infisical":{"retry_for":"soon"}})"}) {
        test::write_text(dir / "bad.json", bad);
        auto refused = load_config(dir / "bad.json");
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code == ErrorCode::usage);
        CHECK(refused.error().describe().find("infisical.") != std::string::npos);
    }
}

TEST_CASE("infisical.refresh and vault.refresh take a duration of at least 10s, and reach the pull settings",
          "[infisical][config]") {
    auto config = parse_config(R"({"version":1,"infisical":{"project_id":"p","refresh":"15m"},
        "vault":{"address":"https://127.0.0.1:8200","kv":["secret/app"],"refresh":"30s"}})", "/p/.ghostpod/config.json");
    REQUIRE(config);
    CHECK(config->infisical.refresh_seconds == 900);
    CHECK(config->vault.refresh_seconds == 30);
    CHECK(parse_config(R"({"version":1,"infisical":{"refresh":10}})", "/c.json")->infisical.refresh_seconds == 10);
    CHECK(parse_config(R"({"version":1,"infisical":{}})", "/c.json")->infisical.refresh_seconds == 0);  // none: only 'pull'
    PullSettings s;
    s.refresh_seconds = 900;
    auto round = parse_pull_settings(pull_settings_json(s));
    REQUIRE(round);
    CHECK(round->refresh_seconds == 900);
    for (std::string bad : {R"({"infisical":{"refresh":"9s"}})", R"({"infisical":{"refresh":"0"}})",
                            R"({"infisical":{"refresh":"often"}})", R"({"vault":{"kv":["a/b"],"refresh":"5s"}})"}) {
        auto refused = parse_config(bad, "/c.json");
        INFO(bad);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code == ErrorCode::usage);
        CHECK(refused.error().describe().find(".refresh") != std::string::npos);
    }
}

TEST_CASE("a listing with every field of the real server reads only the values, not nested look-alikes", "[infisical]") {
    auto listing = body(R"({"secrets":[{"id":"1","_id":"1","workspace":"w","environment":"dev","version":3,"type":"shared",
        "secretKey":"A","secretValue":"real-a","secretComment":"c","secretPath":"/","secretValueHidden":false,
        "skipMultilineEncoding":null,"tags":[{"id":"t","slug":"secretValue","color":"#fff","name":"secretKey"}],
        "secretMetadata":[{"key":"secretKey","value":"secretValue","isEncrypted":false}],"extra":{"secretValue":"nested"}}],
      "meta":{"secrets":5,"imports":{"x":1}},
      "imports":[{"secretPath":"/shared","environment":"prod","folderId":"f","secrets":[
        {"secretKey":"B","secretValue":"import-b","secretPath":"/shared","tags":[],"secretValueHidden":false}]}]})");
    auto merged = merge_listings({&listing}, "test");
    INFO((merged ? std::string() : merged.error().describe()));
    REQUIRE(merged);
    REQUIRE(merged->secrets.size() == 2);
    CHECK(value_of(*merged, "A") == "real-a");
    CHECK(value_of(*merged, "B") == "import-b");
    CHECK(merged->folder(*merged->find("B")) == "/shared");
    auto no_imports = body(R"({"secrets":[],"imports":null})");
    auto empty = merge_listings({&no_imports}, "test");
    REQUIRE(empty);
    CHECK(empty->secrets.empty());
    for (std::string bad : {R"({"secrets":[],"imports":[5]})", R"({"secrets":[],"imports":[{"secretPath":"/x"}]})",
                            R"({"secrets":[],"imports":[{"secrets":{}}]})", R"({"secrets":[7]})", R"({"secrets":"x"})",
                            R"({"secrets":[{"secretKey":"A","secretValue":5}]})"}) {
        auto listing_bad = body(bad);
        INFO(bad);
        CHECK_FALSE(merge_listings({&listing_bad}, "test"));
    }
}

TEST_CASE("an error answer nested absurdly deep is described without walking it", "[infisical]") {
    std::string deep = "{\"message\":" + std::string(200000, '[') + std::string(200000, ']') + ",\"reqId\":\"r\"}";
    std::string message;
    auto text = describe_server_error(422, deep, 1, message);
    CHECK(text.rfind("422", 0) == 0);
    CHECK(text.size() < 400);
}
