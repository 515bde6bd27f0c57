// The session protocol and the sandbox messages: each struct survives its encoder and decoder with
// any byte in any string, large answers cross a real SOCK_SEQPACKET socket in parts, and no
// truncated, extended or retyped message decodes.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "pod/session/protocol.hpp"
#include "sandbox/messages.hpp"
#include "sandbox/fdpass.hpp"
#include "sandbox/wire.hpp"

using namespace ghostpod;
using namespace ghostpod::protocol;

namespace {

// Every byte value, tab, newline and NUL among them.
std::string all_bytes(const std::string& prefix) {
    std::string s = prefix;
    for (int b = 0; b < 256; ++b) s += static_cast<char>(b);
    return s;
}

SessionView hostile_view() {
    SessionView v;
    v.ghost_dir = all_bytes("/run/dir\t");
    v.secrets = {all_bytes("name\n"), "", "kube/config"};
    v.placements = {{"kube/config", all_bytes("/home/u/.kube/con\tfig")}, {all_bytes("s"), "/x"}};
    v.env = {{"kube/config", "KUBECONFIG", all_bytes("/p\t"), false}, {all_bytes("t"), all_bytes("N"), "/q", true}};
    return v;
}

bool same(const SessionView& a, const SessionView& b) {
    if (a.ghost_dir != b.ghost_dir || a.secrets != b.secrets || a.placements.size() != b.placements.size() || a.env.size() != b.env.size())
        return false;
    for (std::size_t i = 0; i < a.placements.size(); ++i)
        if (a.placements[i].secret != b.placements[i].secret || a.placements[i].target != b.placements[i].target) return false;
    for (std::size_t i = 0; i < a.env.size(); ++i)
        if (a.env[i].secret != b.env[i].secret || a.env[i].name != b.env[i].name || a.env[i].path != b.env[i].path ||
            a.env[i].value_from_file != b.env[i].value_from_file)
            return false;
    return true;
}

template <class T>
T round_trip(const Reply& reply) {
    auto decoded = decode_reply(encode(reply));
    REQUIRE(decoded);
    REQUIRE(std::holds_alternative<T>(*decoded));
    return std::get<T>(*decoded);
}

template <class T>
T round_trip_request(const Request& request) {
    auto decoded = decode_request(encode(request));
    REQUIRE(decoded);
    REQUIRE(std::holds_alternative<T>(*decoded));
    return std::get<T>(*decoded);
}

}  // namespace

TEST_CASE("an attach answer keeps every byte of names, paths and variables (a tab no longer drops a variable)", "[protocol]") {
    Attached a{Place::profile, all_bytes("prof"), hostile_view(), {}, {"KUBE_*", all_bytes("V")}, false};
    auto back = round_trip<Attached>(a);
    CHECK(back.pass_env == a.pass_env);
    CHECK_FALSE(back.prompt);
    CHECK(round_trip<Attached>(Attached{Place::ghost, "", hostile_view()}).prompt);
    CHECK(back.place == Place::profile);
    CHECK(back.profile == a.profile);
    CHECK(same(back.view, a.view));
    REQUIRE(back.view.env.size() == 2);
    CHECK(back.view.env[0].path == all_bytes("/p\t"));
    CHECK(back.view.env[1].value_from_file);
}

TEST_CASE("every request and reply decodes to what was encoded", "[protocol]") {
    CHECK(round_trip_request<LockRequest>(LockRequest{true}).discard);
    CHECK_FALSE(round_trip_request<LockRequest>(LockRequest{false}).discard);
    CHECK(round_trip_request<LockRequest>(LockRequest{false, true}).save);
    CHECK_FALSE(round_trip_request<LockRequest>(LockRequest{true, false}).save);
    CHECK(round_trip_request<SaveRequest>(SaveRequest{true}).force);
    CHECK(round_trip_request<PullRequest>(PullRequest{all_bytes("{")}).settings_json == all_bytes("{"));
    auto spawn = round_trip_request<SpawnRequest>(SpawnRequest{"terraform", {"aws/credentials", all_bytes("x")}});
    CHECK(spawn.profile == "terraform");
    CHECK(spawn.allowed == std::vector<std::string>{"aws/credentials", all_bytes("x")});
    CHECK(round_trip_request<RegisterRequest>(RegisterRequest{"p", {"a"}}).allowed == std::vector<std::string>{"a"});
    (void)round_trip_request<AttachRequest>(AttachRequest{});
    CHECK(round_trip_request<StatusRequest>(StatusRequest{}).profile.empty());
    CHECK(round_trip_request<StatusRequest>(StatusRequest{all_bytes("p")}).profile == all_bytes("p"));
    CHECK(round_trip_request<NoticeRequest>(NoticeRequest{all_bytes("warn\n")}).text == all_bytes("warn\n"));
    CHECK(round_trip<NoticeReply>(NoticeReply{true}).first);
    CHECK_FALSE(round_trip<NoticeReply>(NoticeReply{false}).first);
    (void)round_trip_request<CertsRequest>(CertsRequest{});
    CHECK_FALSE(round_trip_request<ExportRequest>(ExportRequest{}).profile);
    auto narrowed = round_trip_request<ExportRequest>(ExportRequest{std::vector<std::string>{all_bytes("a"), ""}});
    REQUIRE(narrowed.profile);
    CHECK(*narrowed.profile == std::vector<std::string>{all_bytes("a"), ""});
    // A profile listing nothing stays a profile (it exports nothing), never "no profile" (everything).
    auto empty = round_trip_request<ExportRequest>(ExportRequest{std::vector<std::string>{}});
    REQUIRE(empty.profile);
    CHECK(empty.profile->empty());

    auto pulled = round_trip<Pulled>(
        Pulled{10000, "cache", 1700000000, {all_bytes("w1"), "w2"}, {"infisical/A", "infisical/B"}, {"vault/s/k/C"}, {}});
    CHECK(pulled.added == std::vector<std::string>{"infisical/A", "infisical/B"});
    CHECK(pulled.changed == std::vector<std::string>{"vault/s/k/C"});
    CHECK(pulled.removed.empty());
    CHECK(pulled.secrets == 10000);
    CHECK(pulled.source == "cache");
    CHECK(pulled.fetched == 1700000000);
    CHECK(pulled.warnings == std::vector<std::string>{all_bytes("w1"), "w2"});
    CHECK(round_trip<Progress>(Progress{"logging in\n"}).text == "logging in\n");
    CHECK(round_trip<StatusReply>(StatusReply{"{\"a\":1}"}).json == "{\"a\":1}");
    CHECK(round_trip<Saved>(Saved{"{}"}).json == "{}");
    CHECK(round_trip<Unsaved>(Unsaved{all_bytes("{\"unsaved\":[]}")}).json == all_bytes("{\"unsaved\":[]}"));
    CHECK(round_trip<CertsReply>(CertsReply{"[]"}).json == "[]");
    (void)round_trip<Locked>(Locked{});
    (void)round_trip<Spawned>(Spawned{});
    (void)round_trip<Registered>(Registered{});
    (void)round_trip<Started>(Started{});
    auto exported = round_trip<Exported>(Exported{{all_bytes("bad\tname"), "x"}, 3});
    CHECK(exported.skipped == std::vector<std::string>{all_bytes("bad\tname"), "x"});
    CHECK(exported.parts == 3);
}

TEST_CASE("a JSON answer larger than one field's limit decodes whole (status of a 10,000-secret session)", "[protocol]") {
    // status --json lists each secret with its paths: 10,000 of them are ~2 MiB, above kMaxFieldBytes
    std::string big = "{\"s\":\"" + std::string(wire::kMaxFieldBytes + 4096, 'x') + "\"}";
    CHECK(round_trip<StatusReply>(StatusReply{big}).json == big);
    CHECK(round_trip<Saved>(Saved{big}).json == big);
    CHECK(round_trip<CertsReply>(CertsReply{big}).json == big);
    CHECK(round_trip<Unsaved>(Unsaved{big}).json == big);
}

TEST_CASE("an error keeps its class, errno and every text across the one error encoding", "[protocol]") {
    Error e = make_error(ErrorCode::conflict, all_bytes("what\n"), all_bytes("why\t"), all_bytes("hint\n\n"));
    e.errnum = -7;
    auto back = round_trip<Error>(e);
    CHECK(back.code == ErrorCode::conflict);
    CHECK(back.errnum == -7);
    CHECK(back.what == e.what);
    CHECK(back.why == e.why);
    CHECK(back.hint == e.hint);
    for (int code = 1; code <= static_cast<int>(kLastErrorCode); ++code)
        CHECK(round_trip<Error>(make_error(static_cast<ErrorCode>(code), "w", "y")).code == static_cast<ErrorCode>(code));
    // The sandbox's errors (ghost init, spawned commands) are the same encoding.
    Error s;
    REQUIRE(sandbox::decode_error(encode(Reply(e)).payload, s));
    CHECK(s.what == e.what);
}

TEST_CASE("a truncated, extended or retyped message is refused, never half-read", "[protocol]") {
    auto f = encode(Reply(Attached{Place::ghost, "", hostile_view()}));
    for (std::size_t cut = 0; cut < f.payload.size(); cut += 1 + cut / 8) {
        wire::Frame shorter{f.kind, {f.payload.begin(), f.payload.begin() + static_cast<long>(cut)}};
        INFO("cut at " << cut);
        CHECK_FALSE(decode_reply(shorter));
    }
    wire::Frame longer = f;
    longer.payload.push_back(0);
    CHECK_FALSE(decode_reply(longer));
    wire::Frame retyped = f;
    retyped.kind = static_cast<std::uint16_t>(Kind::pulled);
    CHECK_FALSE(decode_reply(retyped));
    CHECK_FALSE(decode_request(wire::Frame{static_cast<std::uint16_t>(Kind::attached), {}}));  // a reply is no request
    CHECK_FALSE(decode_request(wire::Frame{9999, {}}));
    // A count claiming more elements than bytes left is refused before anything is allocated.
    wire::Writer w;
    w.str("terraform");
    w.u32(0xffffffffu);
    CHECK_FALSE(decode_request(wire::Frame{static_cast<std::uint16_t>(Kind::spawn), w.take()}));
    // A boolean is 0 or 1.
    CHECK_FALSE(decode_request(wire::Frame{static_cast<std::uint16_t>(Kind::lock), {2}}));
    // An export request without a profile carries nothing after its flag.
    CHECK_FALSE(decode_request(wire::Frame{static_cast<std::uint16_t>(Kind::export_values), {0, 0, 0, 0, 0}}));
}

TEST_CASE("an attach answer for 10,000 secrets crosses a SEQPACKET socket in parts, with its descriptors", "[protocol]") {
    SessionView v;
    v.ghost_dir = "/run/user/1000/ghostpod/x.ghost";
    for (int i = 0; i < 10000; ++i) {
        v.secrets.push_back("infisical/SECRET_NUMBER_" + std::to_string(i));
        v.env.push_back({v.secrets.back(), "VAR_" + std::to_string(i), "/run/x/" + v.secrets.back(), i % 2 == 0});
    }
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
    UniqueFd a(pair[0]), b(pair[1]);
    UniqueFd passed(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(encode(Reply(Attached{Place::outside, "", v})).payload.size() > 10 * sandbox::kMaxMessageBytes);
    std::thread sender([&] { REQUIRE(send(a.get(), Reply(Attached{Place::outside, "", v}), {passed.get()})); });
    std::vector<UniqueFd> fds;
    auto got = receive_reply(b.get(), &fds);
    sender.join();
    REQUIRE(got);
    REQUIRE(got->has_value());
    REQUIRE(std::holds_alternative<Attached>(**got));
    CHECK(same(std::get<Attached>(**got).view, v));
    CHECK(fds.size() == 1);
}

TEST_CASE("the holder reads a request from one message only: one sent short is refused, not waited for", "[protocol]") {
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
    UniqueFd a(pair[0]), b(pair[1]);
    // A header claiming 100 bytes with only 3 of them in the message.
    auto bytes = wire::frame_bytes(static_cast<std::uint16_t>(Kind::pull), std::vector<std::uint8_t>(100, 'x'));
    bytes.resize(wire::kHeaderBytes + 3);
    REQUIRE(::send(a.get(), bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
    auto got = receive_request(b.get());
    CHECK_FALSE(got);
    // And one larger than a request may be is refused by its header.
    REQUIRE(send(a.get(), Request(PullRequest{std::string(kMaxRequestBytes + 1, 'x')})).ok() == false);
}

TEST_CASE("a frame on a pipe is read whole, one cut short is an error, an empty pipe is none", "[protocol]") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    UniqueFd r(p[0]), w(p[1]);
    REQUIRE(write_reply(w.get(), Reply(make_error(ErrorCode::unlock, "unlock", "wrong passphrase"))));
    auto got = read_reply(r.get());
    REQUIRE(got);
    REQUIRE(got->has_value());
    REQUIRE(std::holds_alternative<Error>(**got));
    CHECK(std::get<Error>(**got).code == ErrorCode::unlock);
    auto bytes = wire::frame_bytes(static_cast<std::uint16_t>(Kind::started), std::vector<std::uint8_t>(5, 0));
    bytes.pop_back();
    REQUIRE(write_all(w.get(), bytes, "write"));
    w.reset();
    CHECK_FALSE(read_reply(r.get()));
    int q[2];
    REQUIRE(::pipe2(q, O_CLOEXEC) == 0);
    UniqueFd qr(q[0]);
    ::close(q[1]);
    auto none = read_reply(qr.get());
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
}

TEST_CASE("a profile's part of the session holds its secrets only, with their paths and variables", "[protocol]") {
    SessionView full;
    full.ghost_dir = "/g";
    full.secrets = {"aws/credentials", "kube/config", "api/token"};
    full.placements = {{"aws/credentials", "/h/.aws/credentials"}, {"kube/config", "/h/.kube/config"}};
    full.env = {{"kube/config", "KUBECONFIG", "/h/.kube/config", false}, {"api/token", "API_TOKEN", "/g/api/token", true},
                {"aws/credentials", "AWS_SHARED_CREDENTIALS_FILE", "/h/.aws/credentials", false}};
    auto v = narrow_view(full, {"aws/credentials"});
    CHECK(v.secrets == std::vector<std::string>{"aws/credentials"});
    REQUIRE(v.placements.size() == 1);
    CHECK(v.placements[0].target == "/h/.aws/credentials");
    REQUIRE(v.env.size() == 1);
    CHECK(v.env[0].name == "AWS_SHARED_CREDENTIALS_FILE");
    auto mounts = profile_mounts(v);
    CHECK(mounts.dir == "/g");
    CHECK(mounts.keep == std::vector<std::string>{"aws/credentials"});
    REQUIRE(mounts.placements.size() == 1);
    CHECK(mounts.placements[0].entry == "aws/credentials");
    CHECK(narrow_view(full, {}).secrets.empty());
}

TEST_CASE("ghost init refuses a spawn whose view names an entry outside $GHOSTPOD_DIR or a relative target", "[protocol]") {
    using sandbox::SpawnRequest;
    auto decodes = [](const sandbox::ProfileView& v) {
        SpawnRequest m;
        return sandbox::decode(sandbox::encode(SpawnRequest{v}), m);
    };
    CHECK(decodes({"/g", {"aws/credentials"}, {{"aws/credentials", "/h/.aws/credentials"}}}));
    CHECK_FALSE(decodes({"/g", {"../etc/passwd"}, {}}));
    CHECK_FALSE(decodes({"/g", {"a//b"}, {}}));
    CHECK_FALSE(decodes({"/g", {"/abs"}, {}}));
    CHECK_FALSE(decodes({"/g", {"a"}, {{"a", "relative/target"}}}));
    CHECK_FALSE(decodes({"relative", {"a"}, {}}));
    sandbox::CommandHeader h{{"sh", "-c", all_bytes("x").substr(1)}, "/", 10};
    sandbox::CommandHeader back;
    CHECK_FALSE(sandbox::decode(sandbox::encode(h), back));  // a NUL cannot be in an argument
    h.argv = {"sh", "-c", "printf '\\t\\n'"};
    REQUIRE(sandbox::decode(sandbox::encode(h), back));
    CHECK(back.argv == h.argv);
    CHECK(back.env_bytes == 10);
}
